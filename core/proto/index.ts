// etcd's v3 API for Quorum's client and server: embedded protos, the loader, typed services and message types.
export { PROTO_OPTIONS, loadServices, parseProtoRoot } from './loader'
export { addService, serviceDefinition, serviceMethods } from './services'
export type {
  Bidi,
  EtcdServices,
  ServerStream,
  ServiceHandlers,
  ServiceMethods,
  ServiceName,
  Unary,
} from './services'
export * from './types'
