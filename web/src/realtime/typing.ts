/**
 * When to tell the server an agent is typing. The server forgets a typing flag after 6 s
 * (src/modules/realtime/presence.ts) so a tab that vanished stops "typing" by itself; an agent who
 * keeps typing therefore re-sends typing:true every `resendMs` (half that lifetime), and a pause of
 * `idleMs`, a send, or the composer going away sends typing:false once.
 */
export class TypingThrottle {
  private typing = false;
  private lastSent = 0;
  private idle: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly send: (typing: boolean) => void,
    private readonly opts: { resendMs: number; idleMs: number } = { resendMs: 3000, idleMs: 4000 },
  ) {}

  /** A keystroke in the composer. */
  input(): void {
    const now = Date.now();
    if (!this.typing || now - this.lastSent >= this.opts.resendMs) {
      this.send(true);
      this.lastSent = now;
    }
    this.typing = true;
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), this.opts.idleMs);
  }

  /** Sent, idle, or gone: typing:false once, and only if typing:true was said. */
  stop(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    if (this.typing) this.send(false);
    this.typing = false;
  }
}
