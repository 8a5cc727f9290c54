// Types for watchdog.mjs.
export interface Watchdog {
  /** A case begins; `describe` says how to reproduce it (printed if the case hangs). */
  begin(describe: string): void;
  end(): void;
  stop(): Promise<number>;
}
export function startWatchdog(opts?: { hangMs?: number }): Watchdog;
