// Vite's `?raw` suffix imports a file's text; this declares it for the YAML files core/metrics embeds.
declare module '*.yml?raw' {
  const text: string
  export default text
}
