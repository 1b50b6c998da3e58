export * from './lib/reading';
export * from './lib/topic';
export * from './lib/payload';
export * from './lib/park-model';
export * from './lib/park-time';
export * from './lib/time-arg';
export * from './lib/json-text';
export * from './lib/park-model-file';
