// The schedule document's holiday calendar (dates and ICS files) joined to a tariff book, so the cost endpoint prices
// a holiday the way the scheduler skips it and prices its savings (lib/schedule/tariff-price.ts).
import { HolidayCalendar } from "../calendar";
import { parseScheduleText } from "../schedule/config";
import type { IsHoliday, TariffBook } from "./load";

export interface ScheduleHolidaysDeps {
  /** The schedule document text in force and its name for messages (lib/schedule/store.ts ScheduleStore.read). */
  read(): { text: string; label: string };
  /** Reads an ICS file named by `holidayFiles`. */
  readFile(file: string): string;
  /** Directory `holidayFiles` are relative to (the Node-RED user directory). */
  baseDir?: string | undefined;
  /** Called once per distinct problem: an unreadable or invalid document keeps the last good calendar. */
  warn?(message: string): void;
}

/**
 * The holidays of a schedule document, re-read on `refresh()` (a document replaced through PUT /api/v1/schedules
 * counts from the next refresh). The document is parsed again only when its text changed; device ids are not checked
 * here (the scheduler does), only the calendar matters.
 */
export class ScheduleHolidays {
  private text: string | undefined;
  private calendar = HolidayCalendar.none;
  private lastProblem: string | undefined;
  /** Why the document could not be read or parsed, while no good calendar was ever loaded. */
  private failure: string | undefined;

  constructor(private readonly deps: ScheduleHolidaysDeps) {}

  refresh(): void {
    let doc: { text: string; label: string };
    try {
      doc = this.deps.read();
    } catch (err) {
      return this.problem((err as Error).message);
    }
    if (doc.text === this.text) return;
    try {
      this.calendar = parseScheduleText(doc.text, { file: doc.label, readFile: (f) => this.deps.readFile(f), baseDir: this.deps.baseDir }).calendar;
      this.text = doc.text;
      this.lastProblem = undefined;
      this.failure = undefined;
    } catch (err) {
      this.problem((err as Error).message);
    }
  }

  /**
   * Why there are no holidays to use: the document could not be read or parsed and no good calendar was ever loaded
   * (undefined once one was: a later bad document keeps the last good calendar, with a warning).
   */
  get unavailable(): string | undefined {
    return this.failure;
  }

  readonly isHoliday: IsHoliday = (date) => this.calendar.isHoliday(date);

  private problem(reason: string): void {
    if (this.text === undefined) this.failure = reason;
    if (reason === this.lastProblem) return;
    this.lastProblem = reason;
    // Never loaded: the caller reports `unavailable` instead; otherwise the last good calendar stays in force.
    if (this.text !== undefined) this.deps.warn?.(`schedule holidays: ${reason}; keeping the previous calendar`);
  }
}

/** The book with `extra` holidays joined to its own (each tariff's dates and any holidays the book already joins). */
export function withExtraHolidays(book: TariffBook, extra: IsHoliday): TariffBook {
  return book.withHolidays((date) => book.isHoliday(date) || extra(date));
}
