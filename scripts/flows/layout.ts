// Lays out the shipped flow's tabs: nodes are placed on a grid of (column, row) cells, one editor group per role, the
// groups of a tab stacked top to bottom and the columns as wide as their widest label, so nothing overlaps.
export interface FlowNode {
  id: string;
  type: string;
  z?: string | undefined;
  g?: string;
  wires?: string[][];
  [key: string]: unknown;
}

/**
 * Node width (px) the editor gives a label (red.js: 20 px steps over the label width + 57, at least 100). The label
 * width is estimated at 9 px per character, above what Chromium measures for the editor's font (7-8.5 px), so an
 * estimate is never narrower than the node the editor draws.
 */
export function nodeWidth(n: FlowNode): number {
  const label = typeof n.name === "string" && n.name !== "" ? n.name : n.type;
  return Math.max(100, 20 * Math.ceil((label.length * 9 + 57) / 20));
}

/** Node height (px): 30, or 24 per output port plus 6 beyond one output. */
export function nodeHeight(n: FlowNode): number {
  const outs = n.wires?.length ?? 0;
  return outs > 1 ? Math.max(30, 6 + 24 * outs) : 30;
}

/** Width (px) of the button an inject (left) or debug (right) node draws beside its box. */
const BUTTON = 20;
const buttonLeft = (n: FlowNode) => (n.type === "inject" ? BUTTON : 0);
const buttonRight = (n: FlowNode) => (n.type === "debug" ? BUTTON : 0);

/** Left and top edge of the first group (px). */
const LEFT = 20;
const TOP = 20;
/** Space the editor keeps between a group's box and its nodes (px); the group's label sits in the top one. */
const MARGIN = 26;
/** Free space between two columns (room for the wires) and between two stacked groups (px). */
const COLUMN_GAP = 60;
const GROUP_GAP = 30;
/** Distance between two rows of a group (px): a node, its status line below it, and some air. */
const ROW = 70;

/** Grid cell of a node before layout: x is the column, y the row inside its group (0 = the group's first row). */
export const cell = (col: number, row: number) => ({ x: col, y: row });

/** An editor group (a box with a label around the nodes of one role). Its box is computed by `layoutTab`. */
export function group(z: string, id: string, name: string, members: FlowNode[]): FlowNode[] {
  const g: FlowNode = { id, type: "group", z, name, style: { label: true }, nodes: members.map((m) => m.id), x: 0, y: 0, w: 0, h: 0 };
  // `g` right after `z`, as the editor exports it.
  return [g, ...members.map(({ id: mid, type, z: mz, ...rest }) => ({ id: mid, type, z: mz, g: id, ...rest }))];
}

/**
 * Turns the grid cells of one tab's nodes into editor coordinates (node centres, px) and computes each group's box.
 * Nodes are left-aligned in their column. Every placed node must be in a group; comments sit on rows of their own and do
 * not widen a column.
 */
export function layoutTab(nodes: FlowNode[]): void {
  const groups = nodes.filter((n) => n.type === "group");
  const placed = nodes.filter((n) => n.type !== "group" && typeof n.x === "number");
  const loose = placed.filter((n) => !groups.some((g) => g.id === n.g));
  if (loose.length > 0) throw new Error(`nodes outside any group: ${loose.map((n) => n.id).join(", ")}`);

  const colOf = (n: FlowNode) => n.x as number;
  // A column is as wide as its widest node with its buttons; comments do not count (they sit on rows of their own).
  const widths: number[] = [];
  for (const n of placed) if (n.type !== "comment") widths[colOf(n)] = Math.max(widths[colOf(n)] ?? 0, buttonLeft(n) + nodeWidth(n) + buttonRight(n));
  let left = LEFT + MARGIN;
  const colLeft = [left];
  for (const width of Array.from(widths, (w) => w ?? 0)) colLeft.push((left += width + COLUMN_GAP));

  let top = TOP;
  for (const g of groups) {
    const members = placed.filter((n) => n.g === g.id);
    if (members.length === 0) throw new Error(`group ${g.id} is empty`);
    const firstRow = Math.min(...members.map((m) => m.y as number));
    for (const m of members) {
      const row = (m.y as number) - firstRow;
      const colX = colLeft[colOf(m)];
      if (colX === undefined) throw new Error(`${m.id}: column ${colOf(m)} holds only comments`);
      m.x = Math.round(colX + buttonLeft(m) + nodeWidth(m) / 2);
      m.y = Math.round(top + MARGIN + nodeHeight(m) / 2 + row * ROW);
    }
    // The box the editor draws around the members (red.js: 26 px around each node and its button).
    const l = Math.min(...members.map((m) => (m.x as number) - nodeWidth(m) / 2 - buttonLeft(m)));
    const r = Math.max(...members.map((m) => (m.x as number) + nodeWidth(m) / 2 + buttonRight(m)));
    const t = Math.min(...members.map((m) => (m.y as number) - nodeHeight(m) / 2));
    const b = Math.max(...members.map((m) => (m.y as number) + nodeHeight(m) / 2));
    Object.assign(g, { x: Math.floor(l - MARGIN), y: Math.floor(t - MARGIN), w: Math.ceil(r - l + 2 * MARGIN), h: Math.ceil(b - t + 2 * MARGIN) });
    top = (g.y as number) + (g.h as number) + GROUP_GAP;
  }
}
