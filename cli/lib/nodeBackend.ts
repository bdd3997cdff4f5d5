export * from '../../src/node/backend'; // TEMPORARY shim
