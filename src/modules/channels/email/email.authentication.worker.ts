import { parentPort } from 'node:worker_threads';
import { checkSender, type CheckerReply, type CheckerRequest } from './email.authentication.js';

/**
 * The sender check's thread (see SenderChecker): mailauth's parsing and DKIM hashing run here; each
 * DNS query is asked of the server's thread, which owns the (injected) resolver.
 */
const port = parentPort!;
let nextQuery = 1;
const queries = new Map<number, { resolve: (answer: unknown[]) => void; reject: (error: Error) => void }>();

const resolver = (name: string, rrtype: string) =>
  new Promise<unknown[]>((resolve, reject) => {
    const id = nextQuery++;
    queries.set(id, { resolve, reject });
    port.postMessage({ type: 'dns', id, name, rrtype } satisfies CheckerReply);
  });

port.postMessage({ type: 'ready' } satisfies CheckerReply);

port.on('message', (msg: CheckerRequest) => {
  if (msg.type === 'dns') {
    const query = queries.get(msg.id);
    queries.delete(msg.id);
    if (!query) return;
    if (msg.error) query.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
    else query.resolve(msg.answer ?? []);
    return;
  }
  const raw = Buffer.from(msg.raw.buffer, msg.raw.byteOffset, msg.raw.byteLength);
  void checkSender(raw, msg.client, { resolver, timeoutMs: msg.timeoutMs, maxHeaderBytes: msg.maxHeaderBytes }).then((result) => {
    port.postMessage({ type: 'result', id: msg.id, result } satisfies CheckerReply);
  });
});
