// The emscripten codec packages ship no type declarations: each entry point is a factory.
// src/image/dicom-codecs.ts types the modules it instantiates; the encoder builds are loaded only by
// tests/unit/helpers/dicom-encoders.ts, through require.
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: (opts: Record<string, unknown>) => Promise<unknown>;
  export default factory;
}
declare module '@cornerstonejs/codec-openjph/wasmjs' {
  const factory: (opts: Record<string, unknown>) => Promise<unknown>;
  export default factory;
}
declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  const factory: (opts: Record<string, unknown>) => Promise<unknown>;
  export default factory;
}
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  const factory: (opts: Record<string, unknown>) => Promise<unknown>;
  export default factory;
}
