// Closes the Node-RED the tests share after the last test.
import { closeSharedStack } from './stack';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60000);
    await closeSharedStack();
  },
};
