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
  const birthInput = h('input', { id: 'f_birth', type: 'date' });
  const nameInput = h('input', { id: 'f_name', placeholder: T('例: 吉田 美咲 / よしだ / ヨシダ ミ', 'e.g. 吉田 美咲, よしだ or ヨシダ ミ') });
  const lookupMsg = h('div');
  const found = h('div', { 'data-testid': 'found' });
  const lookupForm = h('form', {},
    h('label', { for: 'card_id' }, T('カードID', 'Card ID')), idInput,
    h('p', { class: 'muted' }, T('または、氏名（漢字またはカナ、姓から）か生年月日、その両方で探す', 'or find the resident by name (kanji or kana, family name first), birth date, or both')),
    h('label', { for: 'f_birth' }, T('生年月日', 'Birth date')), birthInput,
    h('label', { for: 'f_name' }, T('氏名・カナ', 'Name or kana')), nameInput,
    h('p', {}, h('button', { type: 'submit' }, T('表示する', 'Show'))));
  lookupForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (idInput.value.trim()) return load(idInput.value.trim());
    search();
  });
  lookup.append(h('h2', {}, T('住民・カードを探す', 'Find a resident or card')), lookupForm, lookupMsg, found);

  const load = async (id) => {
    try {
      render(await K.api('GET', '/api/v1/municipal/cards/' + encodeURIComponent(id)));
      lookupMsg.replaceChildren();
    } catch (e) { K.notice(lookupMsg, 'error', K.message(e)); cardSection.classList.add('hidden'); }
  };
  const search = async () => {
    const q = new URLSearchParams();
    if (birthInput.value) q.set('birth_date', birthInput.value);
    if (nameInput.value.trim()) q.set('name', nameInput.value.trim());
    try {
      const people = await K.api('GET', '/api/v1/municipal/persons?' + q);
      lookupMsg.replaceChildren();
      found.replaceChildren(people.length
        ? h('table', {}, people.map((p) => h('tr', {},
            h('td', {}, h('strong', {}, p.name), h('div', { class: 'muted small' }, p.name_kana)),
            h('td', {}, K.dateBoth(p.birth_date)),
            h('td', {}, p.cards.length
              ? p.cards.map((id) => h('button', { class: 'secondary', onclick: () => load(id) }, T('カード ', 'Card ') + id))
              : h('button', { 'data-testid': 'issue-for', onclick: () => chooseResident(p) }, T('このかたに交付する', 'Issue a card to this resident'))))))
        : h('p', { class: 'muted' }, T('該当する住民はいません。', 'No resident matches.')));
    } catch (e) { K.notice(lookupMsg, 'error', K.message(e)); }
  };
  const residentLine = (p) => p.name + K.paren(p.name_kana) + T('　生年月日 ', ', born ') + K.dateBoth(p.birth_date);
  // A switch or a PIN reset changes the holder's card: the clerk confirms it once more.
  const confirmStep = (where, question, go) => {
    const yes = h('button', { 'data-testid': 'confirm-yes' }, T('はい、実行します', 'Yes, do it'));
    const no = h('button', { class: 'secondary', 'data-testid': 'confirm-no' }, T('やめる', 'Cancel'));
    no.addEventListener('click', () => where.replaceChildren());
    yes.addEventListener('click', () => { where.replaceChildren(); go(); });
    where.replaceChildren(h('div', { class: 'notice warn', role: 'alert' }, h('p', {}, question), yes, ' ', no));
  };

  // ---- one card ---------------------------------------------------------------------------------
  const render = (c) => {
    // Codes and ids as names: 「千代田区役所 区民課」, not 131016.
    const named = (code) => (c.names && c.names[code]) || code;
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
        ' ', h('span', { class: 'muted' }, K.dateBoth(m.entered_on) + ' ' + named(m.municipality) + (m.struck_on ? T('（' + K.dateBoth(m.struck_on) + ' 取消線）', ' (struck ' + K.dateBoth(m.struck_on) + ')') : ''))))
      : [h('li', { class: 'muted' }, T('追記なし', 'No entries'))]);
    const history = h('table', { 'data-testid': 'history' }, c.history.map((e) => h('tr', {},
      h('td', {}, K.dateBoth(e.at) + ' ' + K.time(e.at)), h('td', {}, eventLabel[e.event] || e.event,
        e.event === 'switched_kind' ? K.colon() + kindLabel[e.from] + ' → ' + kindLabel[e.to] : '',
        e.event === 'issued' ? K.colon() + kindLabel[e.kind] : ''),
      h('td', { class: 'muted' }, named(e.place) + (e.staff ? ' / ' + named(e.staff) : '')))));

    const actions = h('div', {});
    if (c.kind === 'standard') {
      const b = h('button', { 'data-testid': 'to-face-auth' }, T('顔認証マイナンバーカードに切り替える', 'Switch to face-auth'));
      b.addEventListener('click', () => confirmStep(msg, T('このカードを顔認証マイナンバーカードに切り替えますか？（暗証番号は使えなくなります）', 'Switch this card to face-auth? (its PIN stops working)'),
        () => act(b, '/switch', { to: 'face_auth' }, T('顔認証マイナンバーカードに切り替えました。', 'Switched to face-auth.'))));
      actions.append(h('p', {}, b));
    } else {
      const pin = h('input', { id: 'new_pin_switch', type: 'password', inputmode: 'numeric', maxlength: 4, autocomplete: 'off' });
      const b = h('button', { 'data-testid': 'to-standard' }, T('通常のカードに戻す', 'Switch back to standard'));
      b.addEventListener('click', () => confirmStep(msg, T('このカードを通常のマイナンバーカードに戻しますか？', 'Switch this card back to standard?'),
        () => act(b, '/switch', { to: 'standard', new_pin: pin.value }, T('通常のマイナンバーカードに切り替えました。追記欄の「顔認証」には取消線を引きました。', 'Switched to standard; 「顔認証」 in the memo is struck through.'))));
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
      b.addEventListener('click', () => confirmStep(msg, T('暗証番号を再設定しますか？ ご本人の確認（本人確認書類）を済ませてください。', 'Reset the PIN? Check the holder\'s identity documents first.'),
        () => act(b, '/pin-reset', { new_pin: pin.value }, T('暗証番号を再設定しました。', 'PIN reset.'))));
      actions.append(h('label', { for: 'new_pin_reset' }, T('新しい暗証番号（数字4桁）', 'New PIN (4 digits)')), pin, h('p', {}, b));
    }

    cardSection.classList.remove('hidden');
    cardSection.replaceChildren(
      h('h2', {}, T('カード ', 'Card ') + c.id),
      c.holder ? h('p', { class: 'holder-name', 'data-testid': 'card-holder' }, c.holder.name) : null,
      c.holder ? h('p', { class: 'muted' }, c.holder.name_kana + T('　生年月日 ', ', born ') + K.dateBoth(c.holder.birth_date)) : null,
      h('table', { 'data-testid': 'card-summary' },
        h('tr', {}, h('th', {}, T('種類', 'Kind')), h('td', { 'data-testid': 'card-kind' }, kindLabel[c.kind] || c.kind)),
        h('tr', {}, h('th', {}, T('健康保険証利用登録', 'Insurance use')), h('td', {}, c.registered ? T('登録済み', 'registered') : T('未登録', 'not registered'))),
        h('tr', {}, h('th', {}, T('暗証番号', 'PIN')), h('td', {}, c.pin ? (c.pin.locked ? T('ロック中', 'locked') : T('残り ', '') + c.pin.tries_left + T(' 回', ' tries left')) : T('なし（顔認証カード）', 'none (face-auth card)'))),
        h('tr', {}, h('th', {}, T('有効期限', 'Expires')), h('td', {}, K.dateBoth(c.expires_on)))),
      h('h2', {}, T('追記欄', 'Memo field')), memo,
      h('h2', {}, T('操作', 'Actions')), actions, msg,
      h('h2', {}, T('履歴', 'History')), history);
  };

  // ---- issue --------------------------------------------------------------------------------------
  const issue = document.getElementById('issue');
  const iMsg = h('div');
  let resident = null;
  const residentShown = h('p', { 'data-testid': 'issue-resident', class: 'muted' }, T('交付先：上の「住民・カードを探す」で住民を選んでください。', 'Resident: choose one with "Find a resident" above.'));
  const chooseResident = (p) => {
    resident = p;
    residentShown.classList.remove('muted');
    residentShown.textContent = T('交付先：', 'Resident: ') + residentLine(p);
    issue.scrollIntoView();
  };
  const kind = h('select', { id: 'i_kind' }, h('option', { value: 'standard' }, kindLabel.standard), h('option', { value: 'face_auth' }, kindLabel.face_auth));
  const pin = h('input', { id: 'i_pin', type: 'password', inputmode: 'numeric', maxlength: 4, autocomplete: 'off' });
  const pinRow = h('div', {}, h('label', { for: 'i_pin' }, T('暗証番号（数字4桁）', 'PIN (4 digits)')), pin);
  const register = h('input', { type: 'checkbox', id: 'i_register' });
  const submit = h('button', { type: 'submit' }, T('交付する', 'Issue'));
  kind.addEventListener('change', () => pinRow.classList.toggle('hidden', kind.value === 'face_auth'));
  const form = h('form', {}, residentShown,
    h('label', { for: 'i_kind' }, T('カードの種類', 'Kind')), kind, pinRow,
    h('label', { class: 'check' }, register, T('健康保険証利用登録も行う（本人の申出）', 'Also register insurance use (on request)')),
    h('p', {}, submit));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    K.once(submit, async () => {
      try {
        if (!resident) return K.notice(iMsg, 'error', T('交付先の住民を選んでください。', 'Choose the resident first.'));
        const c = await K.api('POST', '/api/v1/municipal/cards', {
          person_id: resident.person_id, kind: kind.value, pin: kind.value === 'face_auth' ? null : pin.value,
          register_insurance_use: register.checked,
        });
        K.notice(iMsg, 'ok', T('交付しました: ', 'Issued: ') + c.id + K.paren(residentLine(resident)));
        // The next resident starts from an empty form.
        form.reset();
        pinRow.classList.remove('hidden');
        resident = null;
        residentShown.classList.add('muted');
        residentShown.textContent = T('交付先：上の「住民・カードを探す」で住民を選んでください。', 'Resident: choose one with "Find a resident" above.');
        render(c);
      } catch (e) { K.notice(iMsg, 'error', K.message(e)); }
    });
  });
  issue.append(h('h2', {}, T('カードを交付する', 'Issue a card')), form, iMsg);
})();
