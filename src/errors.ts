/**
 * The service's error taxonomy, defined beside the actors (the lowest layer, which raises
 * them too) and re-exported here for the rest of the service.
 */
export * from '../actors/runtime/errors.js';
