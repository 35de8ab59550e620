import { ApiError } from '#platform/errors.ts';
import type { Store } from '#store/store.ts';

export const unavailable = () => new ApiError(503, 'store_unavailable', 'DynamoDB is down (test).');

/** A real store with one method failing (with `error`, by default a 503), whenever `when` holds. */
export function failing<K extends keyof Store>(
  store: Store,
  method: K,
  when: (...args: Parameters<Store[K]>) => boolean = () => true,
  error: () => unknown = unavailable,
): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== method || typeof value !== 'function')
        return typeof value === 'function' ? value.bind(target) : value;
      return (...args: Parameters<Store[K]>) =>
        when(...args) ? Promise.reject(error()) : value.apply(target, args);
    },
  });
}
