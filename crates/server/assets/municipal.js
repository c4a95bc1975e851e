'use strict';
// Municipal counter console: issue a card, switch its kind (offering insurance-use registration
// first), register on request, reset a locked PIN, and show the memo field and history.
(() => {
  K.requireStaff();
  const en = K.lang() === 'en';
  const T = (ja, eng) => (en ? eng : ja);
  const h = K.h;
  if (en) document.documentElement.lang = 'en';
  K.header(T('市区町村窓口', 'Municipal counter'));
  const kindLabel = { standard: T('通常のマイナンバーカード', 'Standard card'), face_auth: T('顔認証マイナンバーカード', 'Face-auth card') };
  const eventLabel = {
    issued: T('交付', 'Issued'), switched_kind: T('種類の切替', 'Kind switched'), registered: T('健康保険証利用登録', 'Insurance use registered'),
    pin_locked: T('暗証番号ロック', 'PIN locked'), pin_reset: T('暗証番号の再設定', 'PIN reset'),
  };

  // ---- lookup ---------------------------------------------------------------------------------
  const lookup = document.getElementById('lookup');
  const cardSection = document.getElementById('card');
  const idInput = h('input', { id: 'card_id', placeholder: 'C00000000001' });
  const lookupMsg = h('div');
  const lookupForm = h('form', {}, h('label', { for: 'card_id' }, T('カードID', 'Card ID')), idInput,
    h('p', {}, h('button', { type: 'submit' }, T('表示する', 'Show'))));
  lookupForm.addEventListener('submit', (ev) => { ev.preventDefault(); load(idInput.value.trim()); });
  lookup.append(h('h2', {}, T('カードを探す', 'Find a card')), lookupForm, lookupMsg);

  const load = async (id) => {
    try {
      render(await K.api('GET', '/api/v1/municipal/cards/' + encodeURIComponent(id)));
      lookupMsg.replaceChildren();
    } catch (e) { K.notice(lookupMsg, 'error', K.message(e)); cardSection.classList.add('hidden'); }
  };

  // ---- one card ---------------------------------------------------------------------------------
  const render = (c) => {
    const msg = h('div', { 'data-testid': 'card-message' });
    const act = (button, path, body, done) => K.once(button, async () => {
      try {
        const after = await K.api('POST', '/api/v1/municipal/cards/' + encodeURIComponent(c.id) + path, body);
        render(after);
        K.notice(cardSection.querySelector('[data-testid=card-message]'), 'ok', done);
      } catch (e) {
        if (e.code === 'register_before_switch') return offerRegistration(msg);
        K.notice(msg, 'error', K.message(e));
      }
    });
    // The prompt of SPEC §2: before switching an unregistered card to face-auth, offer registration.
    const offerRegistration = (where) => {
      const yes = h('button', { 'data-testid': 'register-then-switch' }, T('登録してから切り替える', 'Register, then switch'));
      const no = h('button', { class: 'secondary', 'data-testid': 'switch-without' }, T('登録せずに切り替える', 'Switch without registering'));
      yes.addEventListener('click', () => act(yes, '/switch', { to: 'face_auth', registration: 'register_now' }, T('健康保険証利用登録をして、顔認証マイナンバーカードに切り替えました。', 'Registered and switched to face-auth.')));
      no.addEventListener('click', () => act(no, '/switch', { to: 'face_auth', registration: 'declined' }, T('顔認証マイナンバーカードに切り替えました（利用登録はしていません）。', 'Switched to face-auth (not registered).')));
      where.replaceChildren(h('div', { class: 'notice warn', role: 'alert' },
        h('p', {}, K.message({ code: 'register_before_switch' })),
        h('p', {}, T('顔認証マイナンバーカードは、スマートフォンやATMでは利用登録ができません（暗証番号がないため）。', 'Face-auth cards cannot be registered by phone or ATM (no PIN).')),
        yes, ' ', no));
    };

    const memo = h('ul', { class: 'memo', 'data-testid': 'memo' }, c.memo.length
      ? c.memo.map((m) => h('li', {}, m.struck_on ? h('s', { title: T('取消 ', 'struck ') + m.struck_on }, '「' + m.text + '」') : '「' + m.text + '」',
        ' ', h('span', { class: 'muted' }, m.entered_on + ' ' + m.municipality + (m.struck_on ? T('（' + m.struck_on + ' 取消線）', ' (struck ' + m.struck_on + ')') : ''))))
      : [h('li', { class: 'muted' }, T('追記なし', 'No entries'))]);
    const history = h('table', { 'data-testid': 'history' }, c.history.map((e) => h('tr', {},
      h('td', {}, K.datetime(e.at)), h('td', {}, eventLabel[e.event] || e.event,
        e.event === 'switched_kind' ? '：' + kindLabel[e.from] + ' → ' + kindLabel[e.to] : '',
        e.event === 'issued' ? '：' + kindLabel[e.kind] : ''),
      h('td', { class: 'muted' }, e.place + (e.staff ? ' / ' + e.staff : '')))));

    const actions = h('div', {});
    if (c.kind === 'standard') {
      const b = h('button', { 'data-testid': 'to-face-auth' }, T('顔認証マイナンバーカードに切り替える', 'Switch to face-auth'));
      b.addEventListener('click', () => act(b, '/switch', { to: 'face_auth' }, T('顔認証マイナンバーカードに切り替えました。', 'Switched to face-auth.')));
      actions.append(h('p', {}, b));
    } else {
      const pin = h('input', { id: 'new_pin_switch', type: 'password', inputmode: 'numeric', maxlength: 4, autocomplete: 'off' });
      const b = h('button', { 'data-testid': 'to-standard' }, T('通常のカードに戻す', 'Switch back to standard'));
      b.addEventListener('click', () => act(b, '/switch', { to: 'standard', new_pin: pin.value }, T('通常のマイナンバーカードに切り替えました。追記欄の「顔認証」には取消線を引きました。', 'Switched to standard; 「顔認証」 in the memo is struck through.')));
      actions.append(h('label', { for: 'new_pin_switch' }, T('新しい暗証番号（数字4桁）', 'New PIN (4 digits)')), pin, h('p', {}, b));
    }
    if (!c.registered) {
      const b = h('button', { class: 'secondary', 'data-testid': 'register' }, T('健康保険証利用登録をする（本人の申出）', 'Register insurance use (on request)'));
      b.addEventListener('click', () => act(b, '/registration', undefined, T('健康保険証利用登録をしました。', 'Registered for insurance use.')));
      actions.append(h('p', {}, b));
    }
    if (c.pin && c.pin.locked) {
      const pin = h('input', { id: 'new_pin_reset', type: 'password', inputmode: 'numeric', maxlength: 4, autocomplete: 'off' });
      const b = h('button', { 'data-testid': 'reset-pin' }, T('暗証番号を再設定する', 'Reset the PIN'));
      b.addEventListener('click', () => act(b, '/pin-reset', { new_pin: pin.value }, T('暗証番号を再設定しました。', 'PIN reset.')));
      actions.append(h('label', { for: 'new_pin_reset' }, T('新しい暗証番号（数字4桁）', 'New PIN (4 digits)')), pin, h('p', {}, b));
    }

    cardSection.classList.remove('hidden');
    cardSection.replaceChildren(
      h('h2', {}, T('カード ', 'Card ') + c.id),
      h('table', { 'data-testid': 'card-summary' },
        h('tr', {}, h('th', {}, T('種類', 'Kind')), h('td', { 'data-testid': 'card-kind' }, kindLabel[c.kind] || c.kind)),
        h('tr', {}, h('th', {}, T('健康保険証利用登録', 'Insurance use')), h('td', {}, c.registered ? T('登録済み', 'registered') : T('未登録', 'not registered'))),
        h('tr', {}, h('th', {}, T('暗証番号', 'PIN')), h('td', {}, c.pin ? (c.pin.locked ? T('ロック中', 'locked') : T('残り ', '') + c.pin.tries_left + T(' 回', ' tries left')) : T('なし（顔認証カード）', 'none (face-auth card)'))),
        h('tr', {}, h('th', {}, T('有効期限', 'Expires')), h('td', {}, c.expires_on))),
      h('h2', {}, T('追記欄', 'Memo field')), memo,
      h('h2', {}, T('操作', 'Actions')), actions, msg,
      h('h2', {}, T('履歴', 'History')), history);
  };

  // ---- issue --------------------------------------------------------------------------------------
  const issue = document.getElementById('issue');
  const iMsg = h('div');
  const person = h('input', { id: 'i_person', inputmode: 'numeric' });
  const kind = h('select', { id: 'i_kind' }, h('option', { value: 'standard' }, kindLabel.standard), h('option', { value: 'face_auth' }, kindLabel.face_auth));
  const pin = h('input', { id: 'i_pin', type: 'password', inputmode: 'numeric', maxlength: 4, autocomplete: 'off' });
  const pinRow = h('div', {}, h('label', { for: 'i_pin' }, T('暗証番号（数字4桁）', 'PIN (4 digits)')), pin);
  const register = h('input', { type: 'checkbox', id: 'i_register' });
  const submit = h('button', { type: 'submit' }, T('交付する', 'Issue'));
  kind.addEventListener('change', () => pinRow.classList.toggle('hidden', kind.value === 'face_auth'));
  const form = h('form', {}, h('label', { for: 'i_person' }, T('住民の番号（person id）', 'Resident (person id)')), person,
    h('label', { for: 'i_kind' }, T('カードの種類', 'Kind')), kind, pinRow,
    h('label', { class: 'check' }, register, T('健康保険証利用登録も行う（本人の申出）', 'Also register insurance use (on request)')),
    h('p', {}, submit));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    K.once(submit, async () => {
      try {
        const c = await K.api('POST', '/api/v1/municipal/cards', {
          person_id: Number(person.value), kind: kind.value, pin: kind.value === 'face_auth' ? null : pin.value,
          register_insurance_use: register.checked,
        });
        K.notice(iMsg, 'ok', T('交付しました: ', 'Issued: ') + c.id);
        render(c);
      } catch (e) { K.notice(iMsg, 'error', K.message(e)); }
    });
  });
  issue.append(h('h2', {}, T('カードを交付する', 'Issue a card')), form, iMsg);
})();
