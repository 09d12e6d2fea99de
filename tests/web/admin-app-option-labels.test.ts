import { afterEach, describe, expect, it } from 'vitest';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from './admin-kit.js';

/**
 * An app's admin page described a choice field by its stored values ("options: mbp, tp;
 * default: "mbp""), not the labels people pick on the form. It now names each choice by its
 * label, with the value a recipe compares beside it when they differ.
 */
const FILES = {
  'gear.yaml': `
kind: app
key: gear
name: Gear
id_prefix: GEAR
stages: [Submitted, Approved]
fields:
  - { key: model, label: Model, type: select, options: [{ value: mbp, label: MacBook Pro }, { value: tp, label: ThinkPad X1 }, Other], default: mbp }
  - { key: extras, label: Extras, type: multi_select, options: [{ value: dock, label: Docking station }, Mouse], default: [dock, Mouse] }
`,
};

let portal: AdminPortal | undefined;
afterEach(async () => {
  await portal?.close();
  portal = undefined;
});

describe("an app's admin page", () => {
  it('describes choices by their labels', async () => {
    portal = await startAdminPortal(FILES);
    const ada = await signIn(portal.app, 'ada');
    const text = textOf(mainOf((await ada.get('/admin/apps/gear')).html));
    expect(text).toContain('options: MacBook Pro (mbp), ThinkPad X1 (tp), Other; default: MacBook Pro');
    expect(text).toContain('options: Docking station (dock), Mouse; default: Docking station, Mouse');
  });
});
