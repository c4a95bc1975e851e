'use strict';
// Reception console (clinic or pharmacy): the live queue, each visit's consented result, visual
// mode, the self-declaration form with its re-check status, proxy pickup and the trouble guide.
(() => {
  const staff = K.requireStaff();
  const en = K.lang() === 'en';
  const T = (ja, eng) => (en ? eng : ja);
  const h = K.h;
  if (en) document.documentElement.lang = 'en';
  K.header(T('受付コンソール', 'Reception console'));

  // Each role sees only what it may do: proxy pickup is the pharmacist's.
  const sections = {
    queue: T('受付一覧', 'Queue'),
    numbers: T('番号で確認', 'Check by numbers'),
    declaration: T('資格申立書', 'Self-declaration'),
    ...(staff.role === 'pharmacist' ? { proxy: T('代理受取（薬局）', 'Proxy pickup (pharmacy)') } : {}),
    trouble: T('トラブル時の案内', 'When things fail'),
  };
  if (!sections.proxy) document.getElementById('proxy').remove();
  const tabs = document.getElementById('tabs');
  const show = (name) => {
    for (const key of Object.keys(sections)) {
      document.getElementById(key).classList.toggle('hidden', key !== name);
      tabs.querySelector('[data-tab=' + key + ']').setAttribute('aria-selected', key === name);
    }
    document.getElementById('detail').classList.toggle('hidden', name !== 'queue' || !detailId);
  };
  for (const [key, label] of Object.entries(sections)) {
    tabs.append(h('button', { role: 'tab', 'data-tab': key, onclick: () => show(key) }, label));
  }

  const nextLabel = {
    identity: T('本人確認中', 'Verifying identity'),
    visual_mode: T('目視確認待ち', 'Waiting for visual check'),
    registration_offer: T('利用登録の確認中', 'Registration offer'),
    consent: T('同意の選択中', 'Choosing consent'),
    done: T('資格確認済み', 'Checked'),
    fallback: T('カード以外で確認', 'Check without card'),
  };
  const kindLabel = { standard: T('通常カード', 'Standard card'), face_auth: T('顔認証カード', 'Face-auth card') };
  const methodLabel = { face: T('顔認証', 'face'), pin: T('暗証番号', 'PIN'), visual: T('目視', 'visual') };
  const documentLabel = {
    eligibility_certificate: T('資格確認書', 'eligibility certificate'),
    health_insurance_card: T('健康保険証', 'health insurance card'),
    qualification_notice: T('資格情報のお知らせ（カードと一緒に）', 'notice of qualification, with the card'),
  };
  // 医療扶助: this month's ticket for this institution, or why there is none.
  const assistanceView = (a) => {
    if (!a) return null;
    if (a.status === 'ticket') {
      const t = a.ticket;
      const kind = t.kind === 'dispensing' ? T('調剤券', 'dispensing ticket') : T('医療券', 'medical ticket');
      return h('div', { class: 'notice ok', 'data-testid': 'medical-assistance' },
        h('strong', {}, T('医療扶助：' + kind + '（' + t.month.slice(0, 4) + '年' + Number(t.month.slice(5, 7)) + '月分）', 'Medical assistance: ' + kind + ' (' + t.month.slice(0, 7) + ')')),
        h('div', {}, T('交付番号 ', 'Issue number ') + t.issue_number + T('・有効 ', ' · valid ') + K.dateBoth(t.valid_from) + ' – ' + K.dateBoth(t.valid_to)),
        h('div', {}, T('指定医療機関 ', 'Designated ') + t.designated_name + T('・本人支払額 ', ' · own payment ¥') + t.self_pay_amount + T('円', '')));
    }
    return h('div', { class: 'notice warn', 'data-testid': 'medical-assistance' }, a.status === 'not_entrusted'
      ? T('医療扶助：今月の医療券・調剤券は「未委託」です（福祉事務所がまだ登録していません）。福祉事務所に確認してください。', 'Medical assistance: this month is not entrusted yet (the welfare office has not registered the ticket). Ask the welfare office.')
      : T('医療扶助：今月の医療券・調剤券は他の医療機関・薬局を指定しています。福祉事務所に確認してください。', 'Medical assistance: this month\'s ticket designates another institution. Ask the welfare office.'));
  };
  const fallbackLabel = {
    eligibility_certificate: T('資格確認書の番号で確認する', 'Check with the eligibility certificate (資格確認書) numbers'),
    health_insurance_card: T('有効期限内の健康保険証の番号で確認する（2025年12月1日まで）', 'Check with a health insurance card in its validity (to 1 Dec 2025)'),
    qualification_notice_with_card: T('「資格情報のお知らせ」の番号で確認する（カードと一緒に）', 'Check with the notice of qualification numbers (with the card)'),
    mynaportal_screen: T('マイナポータルの資格情報画面で確認する', "Check Mynaportal's eligibility screen"),
    self_declaration_form: T('資格申立書に記入してもらう', 'Have the patient fill in the self-declaration form'),
  };

  // ---- queue -------------------------------------------------------------------------------
  const queue = document.getElementById('queue');
  const detail = document.getElementById('detail');
  let detailId = null;
  const queueBody = h('tbody');
  const queueMsg = h('div');
  // Names can be masked for a screen the waiting room can see (remembered on this PC).
  const mask = h('input', { type: 'checkbox', id: 'q_mask', checked: localStorage.getItem('kakunin.mask') === '1' });
  const filter = h('select', { id: 'q_filter', 'aria-label': T('表示する受付', 'Show') },
    h('option', { value: 'all' }, T('すべて', 'All')),
    h('option', { value: 'action' }, T('対応が必要（目視確認・カード以外で確認）', 'Needs staff (visual check, check without card)')),
    h('option', { value: 'progress' }, T('手続き中', 'In progress')),
    h('option', { value: 'done' }, T('資格確認済み', 'Checked')));
  const search = h('input', { id: 'q_search', type: 'search', placeholder: T('氏名・カナで絞り込み', 'Filter by name or kana') });
  const abandoned = h('input', { type: 'checkbox', id: 'q_abandoned' });
  const groups = { action: ['visual_mode', 'fallback'], progress: ['identity', 'registration_offer', 'consent'], done: ['done'] };
  queue.append(
    h('h2', {}, T('受付一覧（自動更新・新しい順）', 'Visits (live, newest first)')), queueMsg,
    h('div', { class: 'toolbar' }, filter, search,
      h('label', { class: 'check small' }, mask, T('氏名を伏せる（待合室から見える画面）', 'Mask names (screen visible from the waiting room)')),
      h('label', { class: 'check small' }, abandoned, T('放置された受付も表示', 'Show abandoned visits'))),
    h('table', { 'data-testid': 'queue' },
      h('thead', {}, h('tr', {}, h('th', {}, T('時刻', 'Time')), h('th', {}, T('氏名', 'Name')), h('th', {}, T('カード', 'Card')),
        h('th', {}, T('状態', 'State')), h('th', {}, T('本人確認', 'Identity')), h('th', {}, ''))),
      queueBody));
  let lastVisits = [];
  const masked = (name) => {
    const [family, ...rest] = String(name || '').split(/[\s　]+/);
    return rest.length ? family + ' ' + rest.map((p) => '○'.repeat([...p].length)).join(' ') : family;
  };
  const elapsed = (iso) => {
    const min = Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 60000));
    return min < 1 ? T('たった今', 'just now') : min < 60 ? min + T('分前', ' min ago') : Math.floor(min / 60) + T('時間', ' h ') + (min % 60) + T('分前', ' min ago');
  };
  const render = () => {
    const want = groups[filter.value];
    const q = search.value.trim().replace(/[\s　]/g, '');
    const rows = lastVisits.filter((v) => (!want || want.includes(v.next))
      && (!q || (v.holder && (v.holder.name + v.holder.name_kana).replace(/[\s　]/g, '').includes(q))));
    queueBody.replaceChildren(...rows.map((v) => h('tr', { 'data-visit': v.id, 'data-next': v.next, class: v.abandoned ? 'muted' : '' },
      h('td', {}, K.time(v.started_at), h('div', { class: 'muted small' }, elapsed(v.started_at))),
      h('td', { 'data-testid': 'queue-name' }, v.holder ? (mask.checked ? masked(v.holder.name) : v.holder.name) : '—',
        v.holder && !mask.checked ? h('div', { class: 'muted small' }, v.holder.name_kana) : null),
      h('td', {}, kindLabel[v.card_kind] || v.card_kind, v.placed_by === 'helper' ? T('（介助者が操作）', ' (helper)') : '',
        // Staff tell the patient at the counter to renew the certificate.
        v.certificate_grace_until ? h('div', { class: 'small', 'data-testid': 'queue-grace' }, T('電子証明書 期限切れ（猶予中・要更新）', 'Certificate expired (grace; renew)')) : null),
      h('td', {}, h('span', { class: 'badge ' + (v.next === 'visual_mode' ? 'visual' : v.next === 'done' ? 'done' : v.next === 'fallback' ? 'fallback' : '') },
        v.abandoned ? T('放置（期限切れ）', 'Abandoned (expired)') : nextLabel[v.next] || v.next)),
      h('td', {}, v.identity ? methodLabel[v.identity] || v.identity : ''),
      h('td', {}, v.next === 'visual_mode' || v.next === 'done' || v.next === 'fallback'
        ? h('button', { onclick: () => openVisit(v) }, v.next === 'visual_mode' ? T('目視確認する', 'Visual check') : T('表示', 'Open'))
        : ''))));
    if (!rows.length) queueBody.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, lastVisits.length ? T('条件に合う受付はありません。', 'No visits match.') : T('受付はまだありません。', 'No visits yet.'))));
  };
  mask.addEventListener('change', () => { localStorage.setItem('kakunin.mask', mask.checked ? '1' : '0'); render(); });
  filter.addEventListener('change', render);
  search.addEventListener('input', render);
  abandoned.addEventListener('change', () => refresh());

  const refresh = async () => {
    try {
      lastVisits = await K.api('GET', '/api/v1/visits?limit=30' + (abandoned.checked ? '&include_abandoned=true' : ''));
      queueMsg.replaceChildren();
      render();
    } catch (e) {
      K.notice(queueMsg, 'error', K.message(e));
    }
  };

  const openVisit = async (v) => {
    detailId = v.id;
    detail.classList.remove('hidden');
    detail.replaceChildren(h('p', {}, T('読み込み中…', 'Loading…')));
    if (v.next === 'visual_mode') return visualMode(v);
    if (v.next === 'fallback') return fallbackView(v);
    return resultView(v);
  };

  // Visual mode: the card photo large, confirm or reject; the staff member is recorded.
  const visualMode = async (v) => {
    const msg = h('div');
    const img = h('img', { class: 'photo', alt: T('カードの顔写真', 'Card photo'), 'data-testid': 'card-photo' });
    const slot = h('div', {}, img);
    // Unticked: staff tick it only after seeing the holder in person.
    const present = h('input', { type: 'checkbox', id: 'holder_present' });
    let who = v.holder;
    if (!who) {
      // The queue lists visits without their holder; one visit's view names them.
      try { who = (await K.api('GET', '/api/v1/visits/' + v.id)).holder; } catch (e) { who = null; }
    }
    const sexLabel = who ? (who.sex === 1 ? T('男', 'male') : T('女', 'female')) : '';
    const holder = who
      ? h('div', { class: 'holder', 'data-testid': 'holder' },
          h('p', { class: 'holder-name' }, who.name),
          h('p', { class: 'holder-kana' }, who.name_kana),
          h('p', { class: 'holder-birth' }, T('生年月日 ', 'Born ') + (who.birth_date_wareki ? who.birth_date_wareki + K.paren(who.birth_date) : who.birth_date)
            + T('　' + who.age + '歳　', ', age ' + who.age + ', ') + sexLabel))
      : h('p', { class: 'muted' }, T('カードの持ち主の情報がありません。カード券面で確認してください。', 'No holder information; read it from the card.'));
    const decide = (confirmed) => async (ev) => K.once(ev.target, async () => {
      try {
        const after = await K.api('POST', '/api/v1/visits/' + v.id + '/visual', { confirmed, holder_present: present.checked });
        K.notice(msg, confirmed ? 'ok' : 'warn', confirmed
          ? T('本人と確認しました（確認者: ' + staff.name + '）。患者さんは受付端末で同意を選びます。', 'Confirmed (by ' + staff.name + '). The patient chooses consent at the kiosk.')
          : T('本人と確認できませんでした（確認者: ' + staff.name + '）。健康保険証・資格確認書・資格申立書で確認してください。', 'Not confirmed (by ' + staff.name + '). Use the insurance card, eligibility certificate or self-declaration.'));
        buttons.remove();
        refresh();
        return after;
      } catch (e) { K.notice(msg, 'error', K.message(e)); }
    });
    const confirm = h('button', { onclick: decide(true), 'data-testid': 'confirm', disabled: true }, T('本人と確認した', 'Same person'));
    // Confirming needs the holder seen in person: the button waits for the tick.
    present.addEventListener('change', () => { confirm.disabled = !present.checked; });
    const buttons = h('p', {},
      confirm, ' ',
      h('button', { class: 'danger', onclick: decide(false), 'data-testid': 'reject' }, T('本人と確認できない', 'Not the holder')));
    detail.replaceChildren(
      h('h2', {}, T('目視確認モード', 'Visual confirmation')),
      h('div', { class: 'row' },
        slot,
        h('div', {},
          holder,
          h('p', {}, T('カードの顔写真と、受付にいる方（または待合室の方）が同じ人か、目で確認してください。', 'Compare the card photo with the person at the counter or in the waiting area.')),
          h('p', { class: 'muted' }, kindLabel[v.card_kind] + ' · ' + T('受付 ', 'visit ') + v.id),
          h('label', { class: 'check' }, present, T('ご本人が来院している', 'The holder is here in person')),
          buttons, msg)));
    const loadPhoto = async () => {
      try {
        const res = await fetch('/api/v1/visits/' + v.id + '/photo', { headers: { authorization: 'Bearer ' + K.token() } });
        if (!res.ok) throw (await res.json()).error;
        img.src = URL.createObjectURL(await res.blob());
        slot.replaceChildren(img);
      } catch (e) {
        slot.replaceChildren(h('div', { class: 'notice warn' }, K.message(e)), numberB());
      }
    };
    // Without the card photo (the kiosk could not read the card's face), staff may type
    // 照合番号B from the card: the kiosk opens the card's photo with it, once, under the
    // lock-safe rule, and says what came of it here.
    const numberB = () => {
      const input = h('input', { id: 'number_b', inputmode: 'numeric', autocomplete: 'off', maxlength: 20, size: 18,
        'aria-describedby': 'number_b_hint' });
      const note = h('div', { 'data-testid': 'number-b-note' });
      const send = h('button', { 'data-testid': 'number-b-send' }, T('写真を読み出す', 'Read the photo'));
      send.addEventListener('click', (ev) => K.once(ev.target, async () => {
        try {
          const before = await K.api('POST', '/api/v1/visits/' + v.id + '/number-b', { number_b: input.value });
          K.notice(note, 'info', T('受付機に送りました。カードから読み出しています…', 'Sent to the kiosk; reading the card…'));
          for (let i = 0; i < 30; i++) {
            await new Promise((r) => setTimeout(r, 1000));
            const now = await K.api('GET', '/api/v1/visits/' + v.id + '/number-b');
            if (now.offers <= before.offers) continue;
            const last = now.last;
            if (last.outcome === 'opened') return loadPhoto();
            if (last.outcome === 'wrong') {
              return K.notice(note, 'warn', T('カードがこの番号を受け付けませんでした（あと' + Math.max(0, (last.tries_left || 1) - 1) + '回まちがえるとロックされます）。番号を確かめるか、カード券面の顔写真とご本人を見比べてください。',
                'The card refused this number (' + Math.max(0, (last.tries_left || 1) - 1) + ' more wrong tries lock it). Check the number, or compare the photo printed on the card with the person.'));
            }
            if (last.outcome === 'locked') {
              return K.notice(note, 'warn', T('カードの券面情報はロックされています（解除は市区町村の窓口）。カード券面の顔写真とご本人を見比べてください。',
                "The card's face data is locked (the municipal office resets it). Compare the photo printed on the card with the person."));
            }
            return K.notice(note, 'warn', T('残りの回数が少ないため、番号をカードに送りませんでした。カード券面の顔写真とご本人を見比べてください。',
              'Not sent to the card: too few tries are left. Compare the photo printed on the card with the person.'));
          }
          K.notice(note, 'warn', T('受付機が番号を受け取りません。カードが受付機に置かれたままか確かめてください。', 'The kiosk has not taken the number. Check that the card is still on the kiosk.'));
        } catch (e) { K.notice(note, 'error', K.message(e)); }
      }));
      return h('div', { class: 'number-b' },
        h('label', { for: 'number_b' }, T('照合番号B（14桁）', '照合番号B (14 digits)')), ' ', input, ' ', send,
        h('p', { class: 'muted', id: 'number_b_hint' }, T('カード表面の生年月日（和暦の年・月・日 各2桁）＋有効期限の西暦年（4桁）＋セキュリティコード（4桁）。まちがえるとカードが回数を数えます。',
          "From the card's front: birth date (era year, month, day, 2 digits each) + the expiry year (4) + the security code (4). The card counts wrong entries.")),
        note);
    };
    await loadPhoto();
  };

  const fallbackView = (v) => {
    const options = (v.fallback && v.fallback.options) || [];
    detail.replaceChildren(h('h2', {}, T('カードでの資格確認ができませんでした', 'The card check could not be done')),
      h('ul', { class: 'guide' }, options.map((o) => h('li', {}, fallbackLabel[o] || o))),
      h('button', { class: 'secondary', onclick: () => show('declaration') }, T('資格申立書を開く', 'Open the self-declaration form')));
  };

  // The eligibility result, showing only what the patient consented to.
  const resultView = async (v) => {
    try {
      const r = await K.api('GET', '/api/v1/visits/' + v.id + '/result');
      const q = r.result;
      const validity = { valid: T('有効', 'valid'), invalid: T('無効（期間外）', 'invalid (out of period)'), not_found: T('該当なし', 'not found') };
      const rows = [
        [T('資格', 'Validity'), validity[q.validity] || q.validity],
        [T('保険者番号', 'Insurer number'), q.insurer_number],
        [T('保険者名', 'Insurer'), q.insurer_name],
        [T('保険種別', 'Insurance type'), K.insuranceType(q.insurance_type)],
        [T('記号・番号・枝番', 'Symbol / number / branch'), [q.symbol, q.number, q.branch].join(T('・', ' / '))],
        [T('氏名', 'Name'), q.name + K.paren(q.name_kana)],
        [T('生年月日', 'Birth date'), K.dateBoth(q.birth_date)],
        [T('性別', 'Sex'), q.sex === 1 ? T('男', 'male') : T('女', 'female')],
        [T('住所', 'Address'), '〒' + q.post_number + ' ' + q.address],
        [T('負担割合', 'Copay'), (q.copay_percent / 10) + T('割', '0%')],
        [T('有効期間', 'Valid'), K.dateBoth(q.valid_from) + ' – ' + (q.valid_to ? K.dateBoth(q.valid_to) : '')],
      ];
      if (q.limit_category) rows.push([T('限度額適用区分', 'Limit category'), q.limit_category]);
      for (const c of r.recipient_certificates || []) {
        rows.push([T('公費受給者証', 'Subsidy certificate'), c.program + T('（公費負担者番号 ', ' (payer ') + c.payer_number + T('・受給者番号 ', ', recipient ') + c.recipient_number
          + T('・' , ', ') + K.dateBoth(c.valid_from) + ' – ' + K.dateBoth(c.valid_to)
          + (c.copay_limit != null ? T('・自己負担上限 月' + c.copay_limit + '円', ', copay limit ¥' + c.copay_limit + '/month') : '') + T('）', ')')]);
      }
      if (r.prescription) {
        rows.push([T('処方箋（患者の選択）', 'Prescription (patient\'s choice)'),
          r.prescription === 'electronic' ? T('電子処方箋', 'electronic') : T('紙の処方箋', 'paper')]);
      }
      const cat = { medication: T('薬剤情報', 'medication'), checkup: T('特定健診等情報', 'checkups'), clinical: T('診療情報', 'clinical') };
      // The queue lists visits without every field; the visit's own view says the grace period.
      const grace = v.certificate_grace_until || (await K.api('GET', '/api/v1/visits/' + v.id).catch(() => ({}))).certificate_grace_until;
      // Optional parts are null: left out, never shown as the text "null".
      detail.replaceChildren(...[
        h('h2', {}, T('資格確認結果', 'Eligibility result')),
        grace ? h('div', { class: 'notice warn', 'data-testid': 'certificate-grace' },
          T('このカードの電子証明書は有効期限が切れています（猶予期間 ' + K.dateBoth(grace) + ' まで）。資格は確認できますが、薬剤情報などの医療情報は同意も閲覧もできません。市区町村の窓口で電子証明書の更新を案内してください。',
            "This card's certificate has expired (grace period to " + K.dateBoth(grace) + '). Eligibility is confirmed, but no medical information can be consented to or viewed. Ask the patient to renew the certificate at the municipal office.')) : null,
        h('table', { 'data-testid': 'result' }, rows.map(([k, val]) => h('tr', {}, h('th', {}, k), h('td', {}, val)))),
        assistanceView(q.medical_assistance),
        h('p', {}, T('閲覧に同意された情報: ', 'Consented to: '),
          r.viewable.length ? r.viewable.map((c) => cat[c] || c).join('、') : T('なし', 'none'),
          r.consent_assisted ? T('（介助者が操作）', ' (helper operated)') : ''),
        q.limit_category ? null : h('p', { class: 'muted' }, T('限度額適用区分の提供には同意がありません。', 'No consent to show the limit category.'))].filter(Boolean));
    } catch (e) {
      detail.replaceChildren(h('h2', {}, T('資格確認結果', 'Eligibility result')), h('div', { class: 'notice error' }, K.message(e)));
    }
  };

  // ---- self-declaration -----------------------------------------------------------------------
  const fields = [
    ['name', T('氏名', 'Name'), 'text'],
    ['birth_date', T('生年月日', 'Birth date'), 'date'],
    ['sex', T('性別', 'Sex'), 'sex'],
    ['address', T('住所', 'Address'), 'text'],
    ['contact', T('連絡先（電話番号）', 'Contact (phone)'), 'text'],
    ['insurance_type', T('加入している医療保険の種類', 'Insurance type'), 'insurance'],
    ['insurer_name', T('保険者等の名称', 'Insurer name'), 'text'],
    ['employer_name', T('事業所名', 'Employer'), 'text'],
    ['copay_percent', T('一部負担金の割合', 'Copay ratio'), 'copay'],
  ];
  const declaration = document.getElementById('declaration');
  const declForm = h('form', { id: 'declaration-form' });
  const declMsg = h('div');
  const declStatus = h('div', { 'data-testid': 'declaration-status' });
  for (const [name, label, kind] of fields) {
    let input;
    if (kind === 'sex') input = h('select', { name, id: 'd_' + name }, h('option', { value: '' }, ''), h('option', { value: 'male' }, T('男', 'male')), h('option', { value: 'female' }, T('女', 'female')));
    else if (kind === 'insurance') input = h('select', { name, id: 'd_' + name }, ['', '協会けんぽ', '健康保険組合', '共済組合', '国民健康保険', '後期高齢者医療'].map((o) => h('option', { value: o }, o)));
    else if (kind === 'copay') input = h('select', { name, id: 'd_' + name }, h('option', { value: '' }, ''), [10, 20, 30].map((p) => h('option', { value: p }, p / 10 + T('割', '0%'))));
    else if (name === 'name') input = h('input', { name, id: 'd_' + name, type: kind, placeholder: T('例: 吉田 美咲 / ヨシダ ミサキ（空白なしでも可）', 'e.g. 吉田 美咲 or ヨシダ ミサキ (with or without the space)') });
    else input = h('input', { name, id: 'd_' + name, type: kind });
    declForm.append(h('label', { for: 'd_' + name }, label), input);
  }
  const declSubmit = h('button', { type: 'submit' }, T('保存する', 'Save'));
  declForm.append(h('p', {}, declSubmit));
  declaration.append(h('h2', {}, T('被保険者資格申立書', 'Eligibility self-declaration')),
    h('p', {}, T('カードでの資格確認ができないとき、わかる範囲で記入してください。未記入があっても保存され、オンライン資格確認が使えるようになると自動で確認されます。', 'When the card check cannot be done, fill in what is known. It is saved even if incomplete and re-checked automatically once the online check works.')),
    declForm, declMsg, declStatus);
  const statusLabel = {
    pending: T('確認待ち（オンライン資格確認の復旧後に自動確認）', 'Pending (checked automatically once online)'),
    confirmed: T('確認済み：申立内容と一致する資格がありました', 'Confirmed: a matching qualification was found'),
    mismatch: T('要確認：本人は見つかりましたが、負担割合または保険者が異なります', 'Mismatch: person found, but copay or insurer differs'),
    not_found: T('要確認：該当する資格が見つかりません', 'Not found: no matching qualification'),
  };
  let declTimer = null;
  let declId = null;
  const showDeclaration = (d) => {
    const label = Object.fromEntries(fields.map(([n, l]) => [n, l]));
    declStatus.replaceChildren(h('div', { class: 'notice ' + (d.status === 'confirmed' ? 'ok' : 'warn') },
      h('div', {}, T('申立書 ', 'Declaration ') + d.id + ': ', h('strong', {}, statusLabel[d.status] || d.status)),
      d.rechecked_at ? h('div', { class: 'muted' }, T('最終確認: ', 'Last re-check: ') + K.datetime(d.rechecked_at)) : null,
      d.missing.length ? h('div', {}, T('未記入の項目（保存済み・要確認の印あり）: ', 'Not filled in (saved, flagged): ') + d.missing.map((m) => label[m] || m).join('、')) : null));
  };
  declForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    K.once(declSubmit, async () => {
      const form = {};
      for (const [name] of fields) {
        const el = declForm.elements[name];
        el.classList.remove('field-missing');
        const val = el.value.trim();
        if (val) form[name] = name === 'copay_percent' ? Number(val) : val;
      }
      try {
        const d = await K.api('POST', '/api/v1/declarations', { form });
        for (const m of d.missing) declForm.elements[m] && declForm.elements[m].classList.add('field-missing');
        K.notice(declMsg, d.missing.length ? 'warn' : 'ok', d.missing.length
          ? T('保存しました。未記入の項目があるため、要確認として記録しました。', 'Saved. Some fields are empty, so it is flagged for follow-up.')
          : T('保存しました。', 'Saved.'));
        showDeclaration(d);
        declId = d.id;
        clearInterval(declTimer);
        declTimer = setInterval(async () => {
          try { showDeclaration(await K.api('GET', '/api/v1/declarations/' + d.id)); } catch (e) { /* shown on next save */ }
        }, 5000);
      } catch (e) { K.notice(declMsg, 'error', K.message(e)); }
    });
  });
  const recheck = h('button', { class: 'secondary', type: 'button' }, T('今すぐ再確認する', 'Re-check now'));
  recheck.addEventListener('click', () => K.once(recheck, async () => {
    try {
      const s = await K.api('POST', '/api/v1/declarations/recheck');
      K.notice(declMsg, 'ok', T('再確認しました: ', 'Re-checked: ') + s.checked + T('件', ''));
      if (declId) showDeclaration(await K.api('GET', '/api/v1/declarations/' + declId));
    } catch (e) { K.notice(declMsg, 'error', K.message(e)); }
  }));
  declaration.append(recheck);

  // ---- check by numbers (health insurance card, eligibility certificate) ------------------------
  const numbers = document.getElementById('numbers');
  const nForm = h('form', { id: 'numbers-form' },
    h('p', {}, T('カードで確認できないときは、資格確認書、または「資格情報のお知らせ」（マイナ保険証と一緒に）の番号で資格を確認します。健康保険証は2025年12月1日を最後に使えなくなりました。', 'When the card cannot be used, check eligibility with the numbers of the eligibility certificate, or of the notice of qualification shown with the card. Health insurance cards ended on 1 Dec 2025.')),
    h('fieldset', {}, h('legend', {}, T('お持ちのもの', 'Document shown')),
      h('label', { class: 'check' }, h('input', { type: 'radio', name: 'shown', value: 'eligibility_certificate', checked: true }), T('資格確認書', 'Eligibility certificate')),
      h('label', { class: 'check' }, h('input', { type: 'radio', name: 'shown', value: 'qualification_notice' }), T('資格情報のお知らせ', 'Notice of qualification')),
      h('label', { class: 'check' }, h('input', { type: 'radio', name: 'shown', value: 'health_insurance_card' }), T('健康保険証', 'Health insurance card'))),
    h('label', { for: 'n_valid_until' }, T('書類の有効期限（印字があれば）', 'The document\'s expiry (if printed)')), h('input', { id: 'n_valid_until', name: 'valid_until', type: 'date' }),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'with_card', id: 'n_with_card' }), T('マイナ保険証（カード）も見せてもらった', 'The patient showed the card too')),
    h('label', { for: 'n_insurer' }, T('保険者番号', 'Insurer number')), h('input', { id: 'n_insurer', name: 'insurer_number', inputmode: 'numeric' }),
    h('label', { for: 'n_symbol' }, T('記号', 'Symbol')), h('input', { id: 'n_symbol', name: 'symbol' }),
    h('label', { for: 'n_number' }, T('番号', 'Number')), h('input', { id: 'n_number', name: 'number' }),
    h('label', { for: 'n_branch' }, T('枝番', 'Branch')), h('input', { id: 'n_branch', name: 'branch', inputmode: 'numeric' }),
    h('label', { for: 'n_birth' }, T('生年月日（任意・照合に使います）', 'Birth date (optional, checked against the record)')), h('input', { id: 'n_birth', name: 'birth_date', type: 'date' }),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'limit_consent', id: 'n_limit' }), T('限度額適用区分の提供に同意を得た', 'The patient consented to the limit category')));
  const nSubmit = h('button', { type: 'submit' }, T('資格を確認する', 'Check eligibility'));
  const nMsg = h('div', { 'data-testid': 'numbers-result' });
  nForm.append(h('p', {}, nSubmit));
  numbers.append(h('h2', {}, T('番号で資格確認', 'Check by numbers')), nForm, nMsg);
  nForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    K.once(nSubmit, async () => {
      const f = nForm.elements;
      const body = {
        insurer_number: f.insurer_number.value.trim(), symbol: f.symbol.value.trim(),
        number: f.number.value.trim(), branch: f.branch.value.trim(), limit_consent: f.limit_consent.checked,
      };
      if (f.birth_date.value) body.birth_date = f.birth_date.value;
      const kind = (nForm.querySelector('input[name=shown]:checked') || {}).value || 'eligibility_certificate';
      body.document = { kind, valid_until: f.valid_until.value || null, with_card: f.with_card.checked };
      try {
        const q = await K.api('POST', '/api/v1/eligibility/check', body);
        const ok = q.validity === 'valid';
        nMsg.replaceChildren(h('div', { class: 'notice ' + (ok ? 'ok' : 'warn') },
          h('strong', {}, ok ? T('資格は有効です', 'Eligible') : T('資格が確認できません', 'Not eligible')),
          q.document ? h('div', { 'data-testid': 'numbers-document' }, T('確認に使った書類：', 'Checked with: ') + documentLabel[q.document]) : null,
          h('div', {}, q.name + K.paren(q.name_kana) + ' · ' + T('生年月日 ', 'born ') + K.dateBoth(q.birth_date)),
          h('div', {}, q.insurer_name + ' · ' + T('負担割合 ', 'copay ') + q.copay_percent / 10 + T('割', '0%')
            + (q.limit_category ? ' · ' + T('限度額適用区分 ', 'limit category ') + q.limit_category : '')),
          assistanceView(q.medical_assistance)));
      } catch (e) { K.notice(nMsg, 'error', K.message(e)); }
    });
  });

  // ---- proxy pickup -----------------------------------------------------------------------------
  const proxy = document.getElementById('proxy') || h('section');
  const pForm = h('form', { id: 'proxy-form' },
    h('p', {}, T('ご本人が来られず代理の方が薬を受け取るときは、目視確認はできません。処方箋または資格確認書の番号で資格を確認します。', 'When a proxy collects medicine, visual confirmation is impossible: check with the prescription or eligibility certificate numbers.')),
    h('fieldset', {}, h('legend', {}, T('代理の方が持参したもの', 'What the proxy brought')),
      h('label', { class: 'check' }, h('input', { type: 'radio', name: 'document', value: 'prescription' }), T('処方箋', 'Prescription')),
      h('label', { class: 'check' }, h('input', { type: 'radio', name: 'document', value: 'eligibility_certificate' }), T('資格確認書', 'Eligibility certificate')),
      h('label', { class: 'check' }, h('input', { type: 'radio', name: 'document', value: '' }), T('どちらもない', 'Neither'))),
    h('label', { for: 'p_insurer' }, T('保険者番号', 'Insurer number')), h('input', { id: 'p_insurer', name: 'insurer_number', inputmode: 'numeric' }),
    h('label', { for: 'p_symbol' }, T('記号', 'Symbol')), h('input', { id: 'p_symbol', name: 'symbol' }),
    h('label', { for: 'p_number' }, T('番号', 'Number')), h('input', { id: 'p_number', name: 'number' }),
    h('label', { for: 'p_branch' }, T('枝番', 'Branch')), h('input', { id: 'p_branch', name: 'branch', inputmode: 'numeric' }));
  const pSubmit = h('button', { type: 'submit' }, T('資格を確認する', 'Check eligibility'));
  const pMsg = h('div', { 'data-testid': 'proxy-result' });
  pForm.append(h('p', {}, pSubmit));
  proxy.append(h('h2', {}, T('代理受取（ご本人不在）', 'Proxy pickup (holder absent)')), pForm, pMsg);
  pForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    K.once(pSubmit, async () => {
      const f = pForm.elements;
      const doc = (pForm.querySelector('input[name=document]:checked') || {}).value || null;
      try {
        const q = await K.api('POST', '/api/v1/proxy-pickups', {
          document: doc, insurer_number: f.insurer_number.value.trim(), symbol: f.symbol.value.trim(),
          number: f.number.value.trim(), branch: f.branch.value.trim(),
        });
        pMsg.replaceChildren(h('div', { class: 'notice ' + (q.validity === 'valid' ? 'ok' : 'warn') },
          h('strong', {}, q.validity === 'valid' ? T('資格は有効です', 'Eligible') : T('資格が確認できません', 'Not eligible')),
          h('div', {}, q.name + K.paren(q.name_kana) + ' · ' + q.insurer_name + ' · ' + T('負担割合 ', 'copay ') + q.copay_percent / 10 + T('割', '0%'))));
      } catch (e) { K.notice(pMsg, 'error', K.message(e)); }
    });
  });

  // ---- trouble guide ------------------------------------------------------------------------------
  document.getElementById('trouble').append(
    h('h2', {}, T('システムトラブル時の案内', 'When the reader or the service is down')),
    h('ul', { class: 'guide' },
      h('li', {}, T('カードリーダーが動かない・カードが読めない：患者さんに資格確認書、または「資格情報のお知らせ」とカードがあれば、その番号で資格を確認します（健康保険証は2025年12月1日を最後に使えません）。', 'Reader down or card unreadable: if the patient has an eligibility certificate, or the notice of qualification with the card, check by its numbers (health insurance cards ended on 1 Dec 2025).')),
      h('li', {}, T('通常のマイナンバーカードでスマートフォンをお持ちの方：マイナポータルの資格情報画面を見せてもらいます。', 'Standard-card holders with a phone: ask to see the Mynaportal eligibility screen.')),
      h('li', {}, T('顔認証マイナンバーカードの方：マイナポータルは使えません。資格確認書・資格情報のお知らせがなければ「資格申立書」に記入してもらいます。', 'Face-auth card holders cannot use Mynaportal: without a card or certificate, use the self-declaration form.')),
      h('li', {}, T('資格申立書は保存され、オンライン資格確認が復旧すると自動で確認されます（約30秒ごと）。結果は「資格申立書」の画面に表示されます。', 'Declarations are stored and re-checked automatically (about every 30 s) once the service is back.')),
      h('li', {}, T('顔認証がうまくいかない方：受付端末が「受付へお越しください」と案内します。受付一覧の「目視確認する」から、カードの写真とご本人を見比べてください。', 'Face recognition fails: the kiosk sends the patient to the desk; use "Visual check" in the queue.'))));

  show('queue');
  refresh();
  // A link to one visit (#visit=ID) opens it directly.
  const openLinked = () => {
    const linked = new URLSearchParams(location.hash.slice(1)).get('visit');
    if (!linked) return;
    show('queue');
    K.api('GET', '/api/v1/visits/' + encodeURIComponent(linked)).then(openVisit).catch((e) => {
      detailId = linked;
      detail.classList.remove('hidden');
      detail.replaceChildren(h('h2', {}, T('受付 ', 'Visit ') + linked), h('div', { class: 'notice error', role: 'alert' }, K.message(e)));
    });
  };
  window.addEventListener('hashchange', openLinked);
  openLinked();
  setInterval(refresh, 2000);
})();
