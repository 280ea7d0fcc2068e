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

  constructor(private readonly deps: ScheduleHolidaysDeps) {}

  refresh(): void {
    let doc: { text: string; label: string };
    try {
      doc = this.deps.read();
    } catch (err) {
      return this.problem(`schedule holidays: ${(err as Error).message}; keeping the previous calendar`);
    }
    if (doc.text === this.text) return;
    try {
      this.calendar = parseScheduleText(doc.text, { file: doc.label, readFile: (f) => this.deps.readFile(f), baseDir: this.deps.baseDir }).calendar;
      this.text = doc.text;
      this.lastProblem = undefined;
    } catch (err) {
      this.problem(`schedule holidays: ${(err as Error).message}; keeping the previous calendar`);
    }
  }

  readonly isHoliday: IsHoliday = (date) => this.calendar.isHoliday(date);

  private problem(message: string): void {
    if (message === this.lastProblem) return;
    this.lastProblem = message;
    this.deps.warn?.(message);
  }
}

/** The book with `extra` holidays joined to its own (each tariff's dates and any holidays the book already joins). */
export function withExtraHolidays(book: TariffBook, extra: IsHoliday): TariffBook {
  return book.withHolidays((date) => book.isHoliday(date) || extra(date));
}
