// The Prometheus text parser moved to core/metrics/text-format.ts (core/advisor uses it too, and core never
// imports src-main); the app's services keep importing it from here.
export * from '../../core/metrics/text-format'
