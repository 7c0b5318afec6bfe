import { freePorts } from '../../core/cluster/ports'

export { freePorts }

/** One free port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1)
  return port
}
