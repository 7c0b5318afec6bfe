import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { ClusterClientOptions } from './cluster-client'

/** A non-2xx answer or a body over the size limit. */
export class HttpGetError extends Error {
  readonly code = 'http_get_failed'
}

const MAX_BODY_BYTES = 16 * 1024 * 1024

/**
 * GETs `url` as text with the connection's TLS settings (CA, client certificate, server name), for etcd's
 * /metrics and /health. Rejects on a non-2xx status, a timeout, or a body over 16 MiB.
 */
export function httpGetText(url: string, tls: ClusterClientOptions['tls'], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const secure = url.startsWith('https:')
    const options = secure
      ? { ca: tls?.caCert || undefined, cert: tls?.clientCert || undefined, key: tls?.clientKey || undefined, servername: tls?.serverName || undefined }
      : {}
    const request = (secure ? httpsRequest : httpRequest)(url, { method: 'GET', timeout: timeoutMs, ...options }, (response) => {
      const chunks: Buffer[] = []
      let size = 0
      response.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_BODY_BYTES) request.destroy(new HttpGetError(`${url}: body larger than ${MAX_BODY_BYTES} bytes`))
        else chunks.push(chunk)
      })
      response.on('end', () => {
        const status = response.statusCode ?? 0
        if (status < 200 || status >= 300) reject(new HttpGetError(`${url}: HTTP ${status}`))
        else resolve(Buffer.concat(chunks).toString('utf8'))
      })
      response.on('error', reject)
    })
    request.on('timeout', () => request.destroy(new HttpGetError(`${url}: no answer within ${timeoutMs} ms`)))
    request.on('error', reject)
    request.end()
  })
}
