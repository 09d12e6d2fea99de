import { describe } from 'vitest';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import { storeContractSuite } from './contract.js';

const url = process.env.MONGODB_URL;

if (url) {
  storeContractSuite({
    name: 'MongoDB contract suite',
    open: () => MongoStore.connect(url, `baton_contract_${process.pid}`),
  });
} else {
  describe.skip('MongoDB contract suite (set MONGODB_URL to run)', () => {});
}
