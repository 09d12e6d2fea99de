import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import { storeContractSuite } from './contract.js';

const url = process.env.MONGODB_URL;

// Registered either way, so that without MONGODB_URL every MongoDB case shows as skipped.
storeContractSuite({
  name: url ? 'MongoDB contract suite' : 'MongoDB contract suite (set MONGODB_URL to run)',
  open: () => MongoStore.connect(url ?? 'mongodb://unset', `baton_contract_${process.pid}`),
  skip: !url,
});
