// The codec packages ship no type declarations: each entry point is an emscripten factory (or, for
// jpeg-lossless-decoder-js, a class). src/ml/dicom-codecs.ts is their only user and types what it reads.
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: (opts: Record<string, unknown>) => Promise<any>;
  export default factory;
}
declare module '@cornerstonejs/codec-openjph/wasmjs' {
  const factory: (opts: Record<string, unknown>) => Promise<any>;
  export default factory;
}
declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  const factory: (opts: Record<string, unknown>) => Promise<any>;
  export default factory;
}
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  const factory: (opts: Record<string, unknown>) => Promise<any>;
  export default factory;
}
// Encoder builds, used only by the tests to write compressed fixtures.
declare module '@cornerstonejs/codec-openjpeg/wasmjs' {
  const factory: (opts?: Record<string, unknown>) => Promise<any>;
  export default factory;
}
declare module '@cornerstonejs/codec-charls/wasmjs' {
  const factory: (opts?: Record<string, unknown>) => Promise<any>;
  export default factory;
}
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/wasmjs' {
  const factory: (opts?: Record<string, unknown>) => Promise<any>;
  export default factory;
}
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    decode(buffer: ArrayBufferLike, offset: number, length: number, numBytes?: number): ArrayBufferView;
  }
}
