import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A small state file of the local runtime, written whole: each save goes to a
 * temporary file renamed over the old one, so a crash never leaves half a
 * file, and saves run one after another in the order asked.
 */
export class JsonFile<T> {
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  /** The saved value; `undefined` when there is no file yet. */
  async read(): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return undefined;
    }
    return JSON.parse(text) as T;
  }

  save(value: T): Promise<void> {
    const snapshot = JSON.stringify(value);
    // one failed write must not poison every later one: each save starts from the last, whatever became of it
    this.saving = this.saving.catch(() => undefined).then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      const temporary = `${this.file}.tmp`;
      await writeFile(temporary, snapshot);
      await rename(temporary, this.file);
    });
    return this.saving;
  }

  /** Resolves once every save asked for so far is on disk. */
  settled(): Promise<void> {
    return this.saving;
  }
}

/**
 * Work that never runs twice at once: a call while it runs answers the run
 * in flight (a poller and a test asking at the same moment deliver once).
 */
export class SingleFlight {
  private running: Promise<void> | undefined;

  constructor(private readonly work: () => Promise<void>) {}

  run(): Promise<void> {
    this.running ??= this.work().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves once the run in flight, if any, is over; starts nothing. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}
