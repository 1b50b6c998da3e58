export * from './lib/vital-signs';
