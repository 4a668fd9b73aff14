/** A push-fed async iterable: the engine pushes reply deltas, a channel sender pulls them. */
export class TokenStream implements AsyncIterable<string> {
  private readonly buffered: string[] = [];
  private done = false;
  private error: unknown;
  private failed = false;
  private wake: (() => void) | undefined;

  push(delta: string): void {
    if (this.done) return;
    this.buffered.push(delta);
    this.notify();
  }

  end(): void {
    this.done = true;
    this.notify();
  }

  fail(error: unknown): void {
    this.failed = true;
    this.error = error;
    this.done = true;
    this.notify();
  }

  private notify() {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      if (this.buffered.length > 0) {
        // Everything pushed since the last pull goes out as one delta: fewer, fuller previews.
        yield this.buffered.splice(0).join('');
        continue;
      }
      if (this.failed) throw this.error;
      if (this.done) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}
