import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { defaultParseLimits, type ParseLimits, type ParsedEmail, unparsedEmail } from './email.parser.types.js';

/**
 * Parses email in worker threads (SECURITY E8, L4): each worker has a heap cap, each message a
 * time limit, and a worker that runs out of memory or time is replaced; the caller gets an
 * "unparsed" result and stores the raw source anyway. The event loop that serves the API and the
 * SMTP sessions never runs mailparser.
 */
export interface EmailParserOptions {
  workers?: number;
  timeoutMs?: number;
  maxHeapMb?: number;
  limits?: Partial<ParseLimits>;
}

interface Pending {
  id: number;
  raw: Uint8Array;
  resolve: (r: ParsedEmail) => void;
}

interface Slot {
  worker: Worker;
  job: Pending | null;
  timer: NodeJS.Timeout | null;
}

const workerUrl = new URL('./email.parser.worker.ts', import.meta.url).href;
// The worker is TypeScript like the rest of the code: load it through tsx's loader in that thread.
// (require.resolve finds the CommonJS entry; the loader must be registered from the ES module one.)
const tsxApi = pathToFileURL(
  createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/index\.cjs$/, 'index.mjs'),
).href;
const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(workerUrl)}); })`;

export class EmailParser {
  private slots: Slot[] = [];
  private queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  private readonly limits: ParseLimits;
  private readonly timeoutMs: number;
  private readonly maxHeapMb: number;

  constructor(opts: EmailParserOptions = {}) {
    this.limits = { ...defaultParseLimits, ...opts.limits };
    this.timeoutMs = opts.timeoutMs ?? 20_000;
    this.maxHeapMb = opts.maxHeapMb ?? 384;
    for (let i = 0; i < (opts.workers ?? 2); i++) this.slots.push(this.spawn());
  }

  parse(raw: Uint8Array): Promise<ParsedEmail> {
    if (this.closed) return Promise.resolve(failed('parser_closed'));
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, raw, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.resolve(failed('parser_closed'));
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.timer) clearTimeout(s.timer);
        s.job?.resolve(failed('parser_closed'));
        s.job = null;
        await s.worker.terminate();
      }),
    );
  }

  private spawn(): Slot {
    const worker = new Worker(bootstrap, {
      eval: true,
      resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb, maxYoungGenerationSizeMb: 32 },
    });
    worker.unref();
    const slot: Slot = { worker, job: null, timer: null };
    worker.on('message', (msg: { id: number; result?: ParsedEmail; error?: string }) => {
      if (!slot.job || slot.job.id !== msg.id) return;
      const job = slot.job;
      this.finish(slot);
      job.resolve(msg.result ?? failed(`parse_failed: ${msg.error ?? 'unknown'}`));
    });
    const replace = (reason: string) => {
      const job = slot.job;
      this.finish(slot);
      if (job) job.resolve(failed(reason));
      if (this.closed) return;
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots[index] = this.spawn();
      this.pump();
    };
    worker.on('error', (error) => replace((error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out_of_memory' : 'parser_crashed'));
    worker.on('exit', () => {
      if (!this.closed && this.slots.includes(slot)) replace('parser_crashed');
    });
    return slot;
  }

  private finish(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.job = null;
    queueMicrotask(() => this.pump());
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.timer = setTimeout(() => {
        // Too slow: the only way to stop a busy thread is to end it.
        const index = this.slots.indexOf(slot);
        const stuck = slot.job;
        this.finish(slot);
        if (index >= 0) this.slots[index] = this.spawn();
        void slot.worker.terminate();
        stuck?.resolve(failed('timeout'));
      }, this.timeoutMs);
      slot.worker.postMessage({ id: job.id, raw: job.raw, limits: this.limits });
    }
  }
}

const failed = unparsedEmail;
