import type {IncomingMessage, ServerResponse} from 'node:http'

import type {Logger} from '../core/log.js'

/** A request rejected with an HTTP status and a one-line reason (logged, and sent as the body). */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024

/** Reads a request body up to limit bytes; over it is 413 (the rest is not read). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? -1)
  if (declared > limit) throw new HttpStatusError(413, `body of ${declared} bytes is over the ${limit}-byte limit`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) throw new HttpStatusError(413, `body is over the ${limit}-byte limit`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

export function send(res: ServerResponse, status: number, body: string | Buffer, type = 'text/plain; charset=utf-8'): void {
  if (res.headersSent) return
  res.writeHead(status, {'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store'})
  res.end(body)
}

/**
 * Wraps a handler: a HttpStatusError becomes its status with the reason; anything else is a 500
 * whose details stay in the log. Every rejection is logged with its reason and the peer.
 */
export function handler(name: string, logger: Logger, fn: (req: IncomingMessage, res: ServerResponse) => Promise<void>) {
  return (req: IncomingMessage, res: ServerResponse) => {
    fn(req, res).catch((err: unknown) => {
      const peer = req.socket.remoteAddress ?? 'unix'
      if (err instanceof HttpStatusError) {
        logger.warn(`${name}: ${req.method} ${req.url} from ${peer} -> ${err.status}: ${err.message}`)
        // A 413 leaves the rest of the body unread: answer, then drop the connection instead of
        // draining megabytes from a client that ignores the limit.
        if (err.status === 413) {
          res.setHeader('connection', 'close')
          res.once('finish', () => req.socket.destroy())
        }
        send(res, err.status, `${err.message}\n`)
      } else {
        logger.error(`${name}: ${req.method} ${req.url} from ${peer} -> 500: ${(err as Error).message}`)
        send(res, 500, 'internal error\n')
      }
    })
  }
}
