// The part of autocannon's API the HTTP benchmark uses (the package ships no type declarations).
declare module 'autocannon' {
  interface Histogram { average: number; p50: number; p90: number; p99: number; max: number }
  interface Result { requests: Histogram; latency: Histogram; errors: number; timeouts: number; non2xx: number }
  interface Options { url: string; connections?: number; duration?: number; pipelining?: number; workers?: number }
  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}
