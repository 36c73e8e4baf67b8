import { AddClaim, AddClaims, StoreUnavailableError } from '../../../lib/store/types';

/**
 * Add claims as the shared store keeps them, in memory: `forInstance` gives each instance its view of the same
 * claims. A done add answers `active` from then on; a failed one frees the claim at once. `failing` makes every call
 * reject, as when the store is unreachable.
 */
export class FakeAddClaims {
  private readonly held = new Map<string, { owner: string; done: boolean }>();
  readonly calls: Array<{ instance: string; call: 'claim' | 'end'; id: string; answer?: AddClaim; added?: boolean }> = [];
  failing = false;

  forInstance(instance: string): AddClaims {
    return {
      claim: async (id) => {
        this.check();
        const answer = this.claim(instance, id);
        this.calls.push({ instance, call: 'claim', id, answer });
        return answer;
      },
      end: async (id, added) => {
        this.check();
        this.calls.push({ instance, call: 'end', id, added });
        if (this.held.get(id)?.owner !== instance) return;
        if (added) this.held.set(id, { owner: instance, done: true });
        else this.held.delete(id);
      },
    };
  }

  /** Another instance claimed the entry and is adding it (it ends the claim when `end` is called with its name). */
  claimBy(instance: string, id: string): void {
    this.held.set(id, { owner: instance, done: false });
  }

  count(call: 'claim' | 'end'): number {
    return this.calls.filter((c) => c.call === call).length;
  }

  private claim(instance: string, id: string): AddClaim {
    const held = this.held.get(id);
    if (!held) {
      this.held.set(id, { owner: instance, done: false });
      return 'claimed';
    }
    if (held.done) return 'active';
    return held.owner === instance ? 'claimed' : 'busy';
  }

  private check(): void {
    if (this.failing) throw new StoreUnavailableError();
  }
}
