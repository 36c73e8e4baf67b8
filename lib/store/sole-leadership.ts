import { EventEmitter } from 'node:events';
import type { Leadership } from './types';

/** The leadership of a runtime that shares nothing (the embedded journal): it always leads. */
export class SoleLeadership extends EventEmitter implements Leadership {
  readonly isLeader = true;

  confirm(): Promise<boolean> {
    return Promise.resolve(true);
  }

  describe(): string {
    return 'this instance releases (it is the only one)';
  }
}
