// Baton portal: task cards (adaptivecards), live updates (server-sent events), local times.
// Plain browser JavaScript, no build step. Every page works without it; this makes it nicer.
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';

  // A time in the reader's zone, with the zone's name ("Dec 4, 2026, 11:28 PM EST"): the
  // server's text (before this runs, and history texts) is in UTC and says so.
  const DATETIME = {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'short',
  };
  function zoneOf(d) {
    return new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' })
      .formatToParts(d)
      .find((p) => p.type === 'timeZoneName')?.value;
  }
  function localizeTimes(root) {
    for (const el of root.querySelectorAll('time[datetime]')) {
      const d = new Date(el.getAttribute('datetime'));
      if (Number.isNaN(d.getTime())) continue;
      el.title = d.toISOString();
      el.textContent =
        el.dataset.style === 'date'
          ? d.toLocaleDateString(undefined, { dateStyle: 'medium' })
          : d.toLocaleString(undefined, DATETIME);
    }
  }
  // A card's {{TIME(…)}} is shown by adaptivecards in the reader's zone: name the zone after it.
  function zonedCardTimes(value) {
    if (typeof value === 'string')
      return value.replace(/\{\{TIME\(([^)]*)\)\}\}/g, (m, at) => {
        const d = new Date(at.trim());
        const zone = Number.isNaN(d.getTime()) ? undefined : zoneOf(d);
        return zone ? `${m} ${zone}` : m;
      });
    if (Array.isArray(value)) return value.map(zonedCardTimes);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, zonedCardTimes(v)]));
    return value;
  }

  function toast(text) {
    const el = document.createElement('div');
    el.className = 'toast';
    el.setAttribute('role', 'status');
    el.textContent = text;
    document.body.appendChild(el);
    setTimeout(() => el.remove(), 3500);
  }

  // ---------------------------------------------------------------------------------------
  // Task cards: the card JSON was bound on the server from cards/*.json; adaptivecards renders it.

  let acLoading = null;
  function loadAdaptiveCards() {
    if (window.AdaptiveCards) return Promise.resolve(window.AdaptiveCards);
    acLoading ??= new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = '/assets/adaptivecards.min.js';
      s.onload = () => resolve(window.AdaptiveCards);
      s.onerror = () => reject(new Error('adaptivecards did not load'));
      document.head.appendChild(s);
    });
    return acLoading;
  }

  const hostConfig = {
    fontFamily: getComputedStyle(document.documentElement).fontFamily,
    spacing: { small: 4, default: 8, medium: 16, large: 20, extraLarge: 28, padding: 0 },
    actions: {
      // Every outcome of a task is a button: none may be dropped (the library's default is 5).
      maxActions: 100,
      buttonSpacing: 8,
      showCard: { actionMode: 'inline' },
      actionsOrientation: 'horizontal',
      actionAlignment: 'left',
    },
    containerStyles: {
      default: {
        backgroundColor: '#FFFFFF',
        foregroundColors: { default: { default: '#1d2330', subtle: '#5c6475' } },
      },
    },
  };

  // The control of a card's input (`comment`, or a task input's id): renderCards gave its
  // container the id `<article id>-<input id>`.
  function cardControl(article, key) {
    const box = document.getElementById(`${article.id}-${key}`);
    if (!box) return null;
    return /^(INPUT|TEXTAREA|SELECT)$/.test(box.tagName) ? box : box.querySelector('input, textarea, select');
  }

  /** The card of that task on the page now (a live refresh may have replaced `article` meanwhile). */
  function liveCard(article) {
    if (article.isConnected) return article;
    return document.querySelector(`article.task[data-task="${CSS.escape(article.dataset.task)}"]`) ?? article;
  }

  /** The element in `root` that stands where `el` stood (same tag, and same name or label). */
  function counterpart(root, el) {
    const label = (e) => e.getAttribute('aria-label') ?? e.getAttribute('name') ?? e.textContent.trim();
    const want = label(el);
    return [...root.querySelectorAll(el.tagName)].find((e) => label(e) === want) ?? null;
  }

  async function completeTask(first, outcome, values) {
    let article = first;
    let message = article.querySelector('.task-message');
    let buttons = article.querySelectorAll('button');
    // Disabling the pressed button drops the keyboard focus to the page: put it back after.
    let pressed = article.contains(document.activeElement) ? document.activeElement : null;
    // A live refresh while the answer was on its way replaced the card: carry on with the new one.
    const rebind = () => {
      if (article.isConnected) return;
      const card = liveCard(article);
      if (card === article) return;
      pressed = pressed ? counterpart(card, pressed) : null;
      article = card;
      message = article.querySelector('.task-message');
      buttons = article.querySelectorAll('button');
    };
    for (const el of article.querySelectorAll('[aria-invalid]')) {
      el.removeAttribute('aria-invalid');
      if (el.getAttribute('aria-describedby') === message.id) el.removeAttribute('aria-describedby');
    }
    for (const b of buttons) b.disabled = true;
    const inputs = {};
    let comment;
    for (const [k, v] of Object.entries(values)) {
      if (k === 'comment') comment = v;
      else inputs[k] = v;
    }
    try {
      const res = await fetch(`/tasks/${encodeURIComponent(article.dataset.task)}/complete`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'x-csrf-token': csrf,
          'x-requested-with': 'fetch',
        },
        body: JSON.stringify({ outcome, comment, inputs }),
      });
      const body = await res.json().catch(() => ({}));
      rebind();
      if (res.ok) {
        message.className = 'task-message';
        message.textContent = body.message ?? 'Done';
        article.classList.add('done');
        toast(body.message ?? 'Done');
        // The pressed button is disabled: keep the keyboard focus in the card (on what it says),
        // so that the refresh moves it to the task taking this one's place, not the page's top.
        if (pressed && article.contains(pressed)) {
          message.tabIndex = -1;
          message.focus();
        }
        refreshAll();
        return;
      }
      message.className = 'task-message bad';
      if (res.status === 401) {
        // Signed out in another tab: what was typed stays in the card; sign in, then answer.
        // Signed out in another tab: sign in again here, and the card gets back what was typed.
        message.textContent = `${body.message ?? 'You are signed out.'} `;
        const link = document.createElement('a');
        link.href = `/login?return_to=${encodeURIComponent(location.pathname + location.search)}`;
        link.textContent = 'Sign in again';
        message.append(link);
        saveDraft(
          `/tasks/${article.dataset.task}/complete`,
          Object.entries(values).map(([k, v]) => [k === 'comment' ? k : `inputs.${k}`, v]),
          true,
        );
        for (const b of buttons) b.disabled = false;
        if (pressed?.isConnected) pressed.focus();
        return;
      }
      const fields = body.fields ? Object.values(body.fields).join('; ') : '';
      message.textContent = fields || body.message || `Could not complete the task (${res.status}).`;
      if (res.status === 409) refreshAll();
      // A comment or input the answer needs: mark it, tie the message to it, and go there.
      const missing = Object.keys(body.fields ?? {})
        .map((key) => cardControl(article, key))
        .filter(Boolean);
      if (message.id === '') message.id = `${article.id}-message`;
      for (const control of missing) {
        control.setAttribute('aria-invalid', 'true');
        control.setAttribute('aria-describedby', message.id);
      }
      for (const b of buttons) b.disabled = false;
      if (missing.length > 0) missing[0].focus();
      else if (pressed?.isConnected) pressed.focus();
      return;
    } catch {
      rebind();
      message.className = 'task-message bad';
      message.textContent = 'Baton could not be reached; please try again.';
    }
    for (const b of buttons) b.disabled = false;
    if (pressed?.isConnected) pressed.focus();
  }

  async function renderCards(root) {
    const articles = [...root.querySelectorAll('article.task')].filter((a) => a.querySelector('.card-json'));
    if (articles.length === 0) return;
    let AC;
    try {
      AC = await loadAdaptiveCards();
    } catch {
      return; // the plain form stays
    }
    // A card's root is not a control: without this, keyboard users stop on every card's
    // border before its first input (the library's own switch for it).
    if (AC.GlobalSettings) AC.GlobalSettings.setTabIndexAtCardRoot = false;
    for (const article of articles) {
      const host = article.querySelector('.card-host');
      if (!host || host.childElementCount > 0) continue;
      try {
        const card = new AC.AdaptiveCard();
        card.hostConfig = new AC.HostConfig(hostConfig);
        card.onExecuteAction = (action) => {
          if (action.getJsonTypeName() === 'Action.OpenUrl') {
            if (typeof action.url === 'string' && action.url.startsWith('/'))
              window.location.href = action.url;
            else if (action.url) window.open(action.url, '_blank', 'noopener');
            return;
          }
          const data = action.data ?? {};
          const values = {};
          for (const input of card.getAllInputs()) if (input.value) values[input.id] = input.value;
          completeTask(article, data.outcome, values);
        };
        card.parse(zonedCardTimes(JSON.parse(article.querySelector('.card-json').textContent)));
        const el = card.render();
        if (!el) continue;
        // What was typed before signing in again (see keepDrafts), by the card's input ids.
        const typed = article.dataset.draft ? JSON.parse(article.dataset.draft) : null;
        if (typed)
          for (const input of card.getAllInputs()) {
            const value = typed[input.id === 'comment' ? 'comment' : `inputs.${input.id}`];
            const control = input.renderedInputControlElement?.querySelector?.('input, textarea') ?? null;
            const target = control ?? input.renderedInputControlElement;
            if (value && target && 'value' in target) target.value = value;
          }
        // The library gives an input's container the input's own id ("comment"): with several
        // cards on a page those ids repeat. Prefix them with the task's, so each is unique.
        for (const node of el.querySelectorAll('[id]'))
          if (!/^_*ac-/.test(node.id)) node.id = `${article.id}-${node.id}`;
        host.appendChild(el);
        article.classList.add('rendered');
      } catch (err) {
        article.classList.remove('rendered');
        host.textContent = '';
        // The plain form remains usable.
        article.dataset.cardError = String(err);
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Live updates: the server says which request changed; the page fetches its fragment again.

  const pending = new Set();
  let timer = null;

  // What a person has typed into a task card, and the message under it, outlive a refresh of
  // the section (another request changed): the same task's card gets them back.
  function captureTasks(section) {
    const state = new Map();
    for (const article of section.querySelectorAll('article.task[data-task]')) {
      const fields = [...article.querySelectorAll('input, textarea, select')];
      const values = [];
      fields.forEach((el, i) => {
        if (el.type === 'hidden' || el.type === 'checkbox' || el.type === 'radio' || !el.value) return;
        values.push([i, el.tagName, el.value]);
      });
      // The comment or input a refused answer needs stays marked, and tied to the message.
      const invalid = fields.flatMap((el, i) => (el.getAttribute('aria-invalid') === 'true' ? [i] : []));
      const msg = article.querySelector('.task-message');
      const message = msg?.textContent ? [msg.className, msg.textContent] : null;
      if (values.length > 0 || message || invalid.length > 0)
        state.set(article.dataset.task, { values, message, invalid });
    }
    return state;
  }

  function restoreTasks(section, state) {
    for (const article of section.querySelectorAll('article.task[data-task]')) {
      const saved = state.get(article.dataset.task);
      if (!saved) continue;
      const fields = [...article.querySelectorAll('input, textarea, select')];
      for (const [i, tag, value] of saved.values) {
        const el = fields[i];
        if (el && el.tagName === tag && !el.value) el.value = value;
      }
      const msg = article.querySelector('.task-message');
      if (msg && saved.message && !msg.textContent) [msg.className, msg.textContent] = saved.message;
      if (msg && saved.invalid.length > 0) {
        if (msg.id === '') msg.id = `${article.id}-message`;
        for (const i of saved.invalid) {
          fields[i]?.setAttribute('aria-invalid', 'true');
          fields[i]?.setAttribute('aria-describedby', msg.id);
        }
      }
    }
  }

  /** Someone is typing in `section`: the refresh waits until they leave the field. */
  function typingIn(section) {
    const active = document.activeElement;
    if (
      active &&
      section.contains(active) &&
      /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) &&
      active.value
    ) {
      active.addEventListener('blur', () => refresh(section), { once: true });
      return true;
    }
    return false;
  }

  async function refresh(section) {
    if (typingIn(section)) return;
    try {
      const res = await fetch(section.dataset.fragment, {
        headers: { 'x-requested-with': 'fetch', accept: 'text/html' },
        cache: 'no-store',
      });
      if (!res.ok) return;
      const text = await res.text();
      // They may have started typing while the fragment was on its way.
      if (typingIn(section)) return;
      const tasks = captureTasks(section);
      // Where the keyboard focus was (a task's button, say) gets it back in the new content.
      const focused = section.contains(document.activeElement) ? document.activeElement : null;
      const focusedTask = focused?.closest('article.task[data-task]')?.dataset.task;
      // The heading of the list the task was in ("Waiting for you", "Open tasks").
      const focusedList = focused?.closest('section[aria-labelledby]')?.getAttribute('aria-labelledby');
      const focusedAt = focusedTask
        ? [...section.querySelectorAll('article.task[data-task]')].findIndex(
            (a) => a.dataset.task === focusedTask,
          )
        : -1;
      // A form someone opened (Reassign …) stays open, with what was chosen in it.
      const opened = [...section.querySelectorAll('details[open][id]')].map((d) => [
        d.id,
        [...d.querySelectorAll('input[name], select[name], textarea[name]')]
          .filter((el) => el.type !== 'hidden' && el.type !== 'checkbox' && el.type !== 'radio')
          .map((el) => [el.name, el.value]),
      ]);
      section.innerHTML = text;
      for (const [id, values] of opened) {
        const details = document.getElementById(id);
        if (!details) continue;
        details.open = true;
        for (const [name, value] of values) {
          const el = details.querySelector(`[name="${CSS.escape(name)}"]`);
          if (el && value && el.type !== 'hidden') el.value = value;
        }
      }
      localizeTimes(section);
      await renderCards(section);
      restoreTasks(section, tasks);
      if (focused && (document.activeElement === document.body || document.activeElement === null)) {
        const scope = focusedTask
          ? section.querySelector(`article.task[data-task="${CSS.escape(focusedTask)}"]`)
          : section;
        const again = scope ? counterpart(scope, focused) : null;
        // An element made focusable for the purpose (a heading, a card's message) is again.
        if (again && focused.getAttribute('tabindex') === '-1' && !again.hasAttribute('tabindex'))
          again.tabIndex = -1;
        if (again) again.focus();
        else if (focusedTask && scope && scope !== section) {
          // The task is still listed (a fragment fetched before the answer landed) but what had
          // the focus is gone (the answered card's message): keep the focus on the task, so the
          // refresh that takes it away moves the focus on, not to the page's top.
          if (!scope.hasAttribute('tabindex')) scope.tabIndex = -1;
          scope.focus();
        } else if (focusedTask && !scope) {
          // The task left the list (answered, taken by someone else): the one now in its place
          // gets the focus, or the list's heading when none is left.
          const tasks = section.querySelectorAll('article.task[data-task]');
          const next =
            tasks[Math.min(focusedAt, tasks.length - 1)] ??
            (focusedList ? document.getElementById(focusedList) : null) ??
            section.querySelector('h2');
          if (next) {
            if (!next.hasAttribute('tabindex')) next.tabIndex = -1;
            next.focus();
          }
        }
      }
      section.dispatchEvent(new CustomEvent('baton:refreshed', { bubbles: true }));
    } catch {
      // Offline for a moment: the next event refreshes again.
    }
  }

  function refreshAll() {
    for (const s of document.querySelectorAll('[data-live]')) pending.add(s);
    flush();
  }

  function flush() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const sections = [...pending];
      pending.clear();
      for (const s of sections) refresh(s);
    }, 120);
  }

  function connect() {
    const sections = [...document.querySelectorAll('[data-live]')];
    if (sections.length === 0 || !window.EventSource) return;
    const request = sections.find((s) => s.dataset.request)?.dataset.request;
    const source = new EventSource(request ? `/events?request=${encodeURIComponent(request)}` : '/events');
    source.addEventListener('ready', () => {
      // Catch up with anything that changed between rendering the page and (re)connecting.
      refreshAll();
      document.documentElement.dataset.stream = 'connected';
    });
    source.addEventListener('change', (e) => {
      let data = {};
      try {
        data = JSON.parse(e.data);
      } catch {}
      for (const s of sections) if (!s.dataset.request || s.dataset.request === data.request) pending.add(s);
      flush();
    });
    window.addEventListener('pagehide', () => source.close());
  }

  // ---------------------------------------------------------------------------------------
  // Request forms carry a one-time token; the server files one request per token. Back to a
  // submitted form reloads it with a new token (and the typed values restored): put back the
  // token that was submitted, so Submit again shows the request already filed, not a copy.

  function guardSubmissions() {
    for (const form of document.querySelectorAll('form[data-submission]')) {
      const input = form.querySelector('input[name="_submission"]');
      if (!input) continue;
      const key = `baton:submitted:${form.getAttribute('action')}`;
      try {
        const nav = performance.getEntriesByType('navigation')[0];
        const last = sessionStorage.getItem(key);
        if (last && nav && nav.type === 'back_forward') input.value = last;
        form.addEventListener('submit', () => sessionStorage.setItem(key, input.value));
      } catch {
        // No sessionStorage: the server still files one request per token.
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // A form sent after the person signed out in another tab (or whose page is from an older
  // session) is refused with a page marked data-keep-draft. What was typed is kept in this
  // tab (sessionStorage) when a form is sent; on that page it is marked kept, and the next
  // time the same form is shown (after signing in again), it is filled in again.

  const DRAFT_KEY = 'baton:draft';
  const DRAFT_TTL_MS = 60 * 60 * 1000;

  function draftFields(form) {
    return [...form.elements].filter(
      (el) =>
        el.name &&
        !el.name.startsWith('_') &&
        !/^(hidden|submit|button|reset|file|password)$/.test(el.type) &&
        el.tagName !== 'BUTTON',
    );
  }

  function keepDrafts() {
    let draft = null;
    try {
      draft = JSON.parse(sessionStorage.getItem(DRAFT_KEY) ?? 'null');
    } catch {
      return;
    }
    if (!draft || Date.now() - draft.at > DRAFT_TTL_MS) {
      sessionStorage.removeItem(DRAFT_KEY);
      draft = null;
    }
    if (draft && document.querySelector('[data-keep-draft]')) {
      draft.kept = true;
      sessionStorage.setItem(DRAFT_KEY, JSON.stringify(draft));
    } else if (draft && !draft.kept) {
      // The form went through (or was answered with its own page): nothing to put back.
      sessionStorage.removeItem(DRAFT_KEY);
    } else if (draft) {
      const form = [...document.querySelectorAll('form[method="post"]')].find(
        (f) => f.getAttribute('action') === draft.action,
      );
      if (form) {
        sessionStorage.removeItem(DRAFT_KEY);
        const article = form.closest('article.task');
        if (article) article.dataset.draft = JSON.stringify(Object.fromEntries(draft.values));
        for (const el of draftFields(form)) {
          const saved = draft.values.filter(([name]) => name === el.name).map(([, value]) => value);
          if (el.type === 'checkbox' || el.type === 'radio') el.checked = saved.includes(el.value);
          else if (saved.length > 0) el.value = saved[0];
        }
        const note = document.createElement('p');
        note.className = 'notice';
        note.setAttribute('role', 'status');
        note.textContent =
          'This form was not sent before: what you typed is back. Check it and send it again.';
        form.prepend(note);
      }
    }
    for (const form of document.querySelectorAll('form[method="post"]')) {
      const fields = draftFields(form);
      if (fields.length === 0) continue;
      form.addEventListener('submit', () => {
        const values = [];
        for (const el of fields) {
          if ((el.type === 'checkbox' || el.type === 'radio') && !el.checked) continue;
          values.push([el.name, el.value]);
        }
        saveDraft(form.getAttribute('action'), values, false);
      });
    }
  }

  function saveDraft(action, values, kept) {
    try {
      sessionStorage.setItem(DRAFT_KEY, JSON.stringify({ action, values, at: Date.now(), kept }));
    } catch {}
  }

  function start() {
    try {
      keepDrafts();
    } catch {
      // No sessionStorage: nothing is kept.
    }
    guardSubmissions();
    localizeTimes(document);
    renderCards(document);
    connect();
    const summary = document.getElementById('error-summary');
    if (summary) summary.focus();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
