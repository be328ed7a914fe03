import {createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import {connect, type AddressInfo} from 'node:net'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {createFastGetter, createHttpClient, toNetworkError} from '../../src/lib/core/http.js'
import {createLogger, registerSecret} from '../../src/lib/core/log.js'
import {selfSignedCert, type TestCert} from '../helpers/certs.js'
import {useTmpDir} from '../helpers/tmp.js'

const tmp = useTmpDir()
const servers: Server[] = []

const openSockets = new Set<import('node:net').Socket>()

async function listen(server: Server): Promise<number> {
  servers.push(server)
  // Tunnelled (CONNECT) sockets are not tracked by the server; track every socket to stop them all.
  server.on('connection', (s) => {
    openSockets.add(s)
    s.on('close', () => openSockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

afterAll(async () => {
  for (const s of openSockets) s.destroy()
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
})

function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  return listen(createHttpServer(handler))
}

describe('HTTP client factory', () => {
  it('retries an idempotent GET on 503 with backoff, then succeeds', async () => {
    let hits = 0
    const port = await httpServer((_req, res) => {
      hits++
      res.statusCode = hits < 3 ? 503 : 200
      res.end(hits < 3 ? 'busy' : 'ok')
    })
    const client = await createHttpClient({retries: 3, retryBaseMs: 10})
    const body = await client.get(`http://127.0.0.1:${port}/x`).text()
    expect(body).toBe('ok')
    expect(hits).toBe(3)
  })

  it('never retries a POST, even on 503 or a reset connection', async () => {
    let hits = 0
    const port = await httpServer((req, res) => {
      hits++
      if (req.url === '/reset') {
        req.socket.destroy()
        return
      }
      res.statusCode = 503
      res.end()
    })
    const client = await createHttpClient({retries: 3, retryBaseMs: 10})
    await expect(client.post(`http://127.0.0.1:${port}/x`, {body: 'a'})).rejects.toMatchObject({response: {statusCode: 503}})
    expect(hits).toBe(1)
    const err = await client.post(`http://127.0.0.1:${port}/reset`, {body: 'a'}).catch((e) => e)
    expect(toNetworkError(err).code).toBe('UNREACHABLE')
    expect(hits).toBe(2)
  })

  it('gives up after the retries and maps the failure (exit 7)', async () => {
    let hits = 0
    const port = await httpServer((_req, res) => {
      hits++
      res.statusCode = 502
      res.end()
    })
    const client = await createHttpClient({retries: 2, retryBaseMs: 5})
    const err = await client.get(`http://127.0.0.1:${port}/`).catch((e) => e)
    expect(hits).toBe(3)
    expect(toNetworkError(err)).toMatchObject({code: 'HTTP_STATUS', exitCode: 7})
  })

  it('times out a slow server (TIMEOUT, exit 7)', async () => {
    const port = await httpServer(() => {
      /* never answers */
    })
    const client = await createHttpClient({timeoutMs: 200, retries: 0})
    const err = await client.get(`http://127.0.0.1:${port}/`).catch((e) => e)
    expect(toNetworkError(err)).toMatchObject({code: 'TIMEOUT', exitCode: 7})
  })

  it('maps a refused connection to UNREACHABLE naming the URL', async () => {
    const port = await httpServer(() => undefined)
    await new Promise((r) => servers.pop()!.close(r))
    const client = await createHttpClient({retries: 0})
    const err = await client.get(`http://127.0.0.1:${port}/api`).catch((e) => e)
    expect(toNetworkError(err).message).toBe(`cannot reach http://127.0.0.1:${port}/api: connection refused`)
  })

  it('never logs headers, bodies or query strings', async () => {
    const secret = 'Bearer-abc123-very-secret'
    registerSecret(secret)
    const port = await httpServer((_req, res) => res.end('{}'))
    const lines: string[] = []
    const client = await createHttpClient({logger: createLogger({level: 'debug', write: (l) => lines.push(l)})})
    await client.post(`http://127.0.0.1:${port}/login?token=${secret}`, {headers: {authorization: secret}, json: {password: secret}})
    expect(lines.join('')).toContain(`POST http://127.0.0.1:${port}/login?…`)
    expect(lines.join('')).not.toContain(secret)
  })
})

describe('fast getter (plain-HTTP hot paths)', () => {
  it('reuses one keep-alive connection per host, and closes it when told the request is the last', async () => {
    const peers: number[] = []
    const headers: Array<string | undefined> = []
    const port = await httpServer((req, res) => {
      peers.push(req.socket.remotePort!)
      headers.push(req.headers.connection)
      res.end(`{"path":"${req.url}"}`)
    })
    const get = await createFastGetter()
    expect(await get(`http://127.0.0.1:${port}/a`)).toEqual({statusCode: 200, body: '{"path":"/a"}'})
    expect(await get(`http://127.0.0.1:${port}/b?x=1`)).toEqual({statusCode: 200, body: '{"path":"/b?x=1"}'})
    expect(peers[1]).toBe(peers[0])
    const closed = new Promise<void>((resolve) => (openSocketOf(peers[0]!)?.once('close', () => resolve()) ?? resolve()))
    await get(`http://127.0.0.1:${port}/c`, {close: true})
    expect(headers).toEqual(['keep-alive', 'keep-alive', 'close'])
    await closed
    await get(`http://127.0.0.1:${port}/d`)
    expect(peers[3]).not.toBe(peers[0])
  })

  it('returns error statuses as answers (the caller maps them), with the body', async () => {
    const port = await httpServer((_req, res) => {
      res.statusCode = 404
      res.end('{"code":404}')
    })
    const get = await createFastGetter()
    expect(await get(`http://127.0.0.1:${port}/x`)).toEqual({statusCode: 404, body: '{"code":404}'})
  })

  it('maps a timeout and a refused connection like the got client (exit 7, URL named)', async () => {
    const slow = await httpServer(() => {
      /* never answers */
    })
    const get = await createFastGetter({timeoutMs: 150})
    expect(toNetworkError(await get(`http://127.0.0.1:${slow}/`).catch((e) => e))).toMatchObject({code: 'TIMEOUT', exitCode: 7})
    const gone = await httpServer(() => undefined)
    await new Promise((r) => servers.pop()!.close(r))
    expect(toNetworkError(await get(`http://127.0.0.1:${gone}/api`).catch((e) => e)).message).toBe(`cannot reach http://127.0.0.1:${gone}/api: connection refused`)
  })

  it('retries once when the peer closed the pooled connection under it', async () => {
    let hits = 0
    const port = await httpServer((req, res) => {
      hits++
      // The second request arrives on the kept-alive socket: drop it without an answer, as a peer
      // whose keep-alive timer fired at that moment would.
      if (hits === 2) req.socket.destroy()
      else res.end('ok')
    })
    const get = await createFastGetter()
    await get(`http://127.0.0.1:${port}/1`)
    expect(await get(`http://127.0.0.1:${port}/2`)).toEqual({statusCode: 200, body: 'ok'})
    expect(hits).toBe(3)
  })

  it('logs method and URL at debug level, never the query string', async () => {
    const port = await httpServer((_req, res) => res.end('{}'))
    const lines: string[] = []
    const get = await createFastGetter({logger: createLogger({level: 'debug', write: (l) => lines.push(l)})})
    await get(`http://127.0.0.1:${port}/quotes/identity?nonce=secretnonce`)
    expect(lines.join('')).toContain(`GET http://127.0.0.1:${port}/quotes/identity?…`)
    expect(lines.join('')).not.toContain('secretnonce')
  })

  it('stops reading an answer over the size limit (exit 7, says why)', async () => {
    const port = await httpServer((_req, res) => res.end('x'.repeat(5000)))
    const get = await createFastGetter({maxBodyBytes: 4096})
    const err = toNetworkError(await get(`http://127.0.0.1:${port}/big`).catch((e) => e))
    expect(err).toMatchObject({code: 'UNREACHABLE', exitCode: 7})
    expect(err.message).toBe(`cannot reach http://127.0.0.1:${port}/big: answer larger than 4096 bytes, not read`)
    expect(await (await createFastGetter({maxBodyBytes: 5000}))(`http://127.0.0.1:${port}/big`)).toMatchObject({statusCode: 200})
  })

  it('refuses HTTPS (that path belongs to createHttpClient)', async () => {
    const get = await createFastGetter()
    await expect(get('https://127.0.0.1:1/')).rejects.toThrow(/plain HTTP only/)
  })
})

function openSocketOf(remotePort: number) {
  return [...openSockets].find((s) => s.remotePort === remotePort)
}

describe('TLS: --ca-file and --insecure', () => {
  let cert: TestCert
  let port: number
  let caFile: string

  beforeAll(async () => {
    cert = selfSignedCert()
    port = await listen(createHttpsServer({key: cert.keyPem, cert: cert.certPem}, (_req, res) => res.end('tls ok')))
  })

  it('rejects a self-signed server by default with a hint naming --ca-file', async () => {
    const client = await createHttpClient({retries: 0})
    const err = toNetworkError(await client.get(`https://127.0.0.1:${port}/`).catch((e) => e))
    expect(err).toMatchObject({code: 'TLS_UNTRUSTED', exitCode: 7})
    expect(err.suggestions[0]).toContain('--ca-file')
  })

  it('trusts it with --ca-file', async () => {
    caFile = join(tmp(), 'ca.pem')
    writeFileSync(caFile, cert.certPem)
    const client = await createHttpClient({caFile})
    expect(await client.get(`https://127.0.0.1:${port}/`).text()).toBe('tls ok')
  })

  it('a CA file without a certificate is a clear error', async () => {
    const bad = join(tmp(), 'bad.pem')
    writeFileSync(bad, 'not a cert')
    await expect(createHttpClient({caFile: bad})).rejects.toThrow(/holds no PEM certificate/)
    await expect(createHttpClient({caFile: join(tmp(), 'missing.pem')})).rejects.toMatchObject({code: 'FILE_NOT_FOUND'})
  })

  it('--insecure connects and warns', async () => {
    const lines: string[] = []
    const client = await createHttpClient({insecure: true, logger: createLogger({write: (l) => lines.push(l)})})
    expect(await client.get(`https://127.0.0.1:${port}/`).text()).toBe('tls ok')
    expect(lines.join('')).toMatch(/Warning: TLS certificate verification is disabled/)
  })
})

describe('proxies: HTTPS_PROXY, HTTP_PROXY, NO_PROXY', () => {
  const saved = {...process.env}
  afterEach(() => {
    for (const k of ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy']) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
  })

  /** A minimal forward proxy on loopback: CONNECT tunnels and absolute-URI GETs, counting both. */
  async function proxy() {
    const seen: string[] = []
    const server = createHttpServer((req, res) => {
      seen.push(`${req.method} ${req.url}`)
      const target = new URL(req.url!)
      const upstream = createHttpServer()
      upstream.close()
      import('node:http').then(({request}) => {
        const r = request({host: target.hostname, port: target.port, path: target.pathname, method: req.method}, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers)
          up.pipe(res)
        })
        req.pipe(r)
      })
    })
    server.on('connect', (req, socket, head) => {
      seen.push(`CONNECT ${req.url}`)
      const [host, p] = req.url!.split(':')
      const up = connect(Number(p), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        up.write(head)
        up.pipe(socket)
        socket.pipe(up)
      })
      up.on('error', () => socket.destroy())
      socket.on('error', () => up.destroy())
    })
    const port = await listen(server)
    return {url: `http://127.0.0.1:${port}`, seen}
  }

  it('tunnels HTTPS through HTTPS_PROXY with CONNECT', async () => {
    const cert = selfSignedCert()
    const target = await listen(createHttpsServer({key: cert.keyPem, cert: cert.certPem}, (_req, res) => res.end('via proxy')))
    const p = await proxy()
    process.env.HTTPS_PROXY = p.url
    const caFile = join(tmp(), 'ca.pem')
    writeFileSync(caFile, cert.certPem)
    const client = await createHttpClient({caFile, retries: 0})
    expect(await client.get(`https://127.0.0.1:${target}/`).text()).toBe('via proxy')
    expect(p.seen).toEqual([`CONNECT 127.0.0.1:${target}`])
  })

  it('sends plain HTTP through HTTP_PROXY, and bypasses it for NO_PROXY hosts', async () => {
    const target = await httpServer((_req, res) => res.end('direct or proxied'))
    const p = await proxy()
    process.env.HTTP_PROXY = p.url
    const client = await createHttpClient({retries: 0})
    await client.get(`http://127.0.0.1:${target}/a`).text()
    // hpagent tunnels plain HTTP with CONNECT as well
    expect(p.seen).toEqual([`CONNECT 127.0.0.1:${target}`])
    process.env.NO_PROXY = '127.0.0.1'
    const direct = await createHttpClient({retries: 0})
    await direct.get(`http://127.0.0.1:${target}/b`).text()
    expect(p.seen).toHaveLength(1)
  })

  it('the fast getter follows the same proxy rules', async () => {
    const target = await httpServer((_req, res) => res.end('answer'))
    const p = await proxy()
    process.env.HTTP_PROXY = p.url
    const viaProxy = await createFastGetter()
    expect((await viaProxy(`http://127.0.0.1:${target}/a`)).body).toBe('answer')
    expect(p.seen).toEqual([`CONNECT 127.0.0.1:${target}`])
    process.env.NO_PROXY = '127.0.0.1'
    const direct = await createFastGetter()
    expect((await direct(`http://127.0.0.1:${target}/b`)).body).toBe('answer')
    expect(p.seen).toHaveLength(1)
  })
})
