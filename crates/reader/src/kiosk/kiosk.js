'use strict';
// The patient's kiosk. One question per screen, very large buttons, Japanese first. Every step
// goes to the card-reader agent (/kiosk/api), which talks to the card and the server.
(() => {
  let lang = 'ja';
  const W = {
    ja: {
      title: 'マイナンバーカードで受付', place: 'マイナンバーカードをカードリーダーに置いてください',
      demo: 'デモ用：置くカードを選んでください', faceCard: '顔認証マイナンバーカード', stdCard: 'マイナンバーカード',
      helperPlaces: '家族・介助者がカードを置きます', reading: 'カードを読み取っています…',
      choose: '本人確認の方法を選んでください', byFace: '顔認証', byPin: '暗証番号', byStaff: '受付の職員に確認してもらう',
      look: 'カメラを見てください', lookHint: '顔がまるごと映るように、まっすぐ見てください',
      turnHead: '顔をゆっくり少し左右に動かしてください',
      showCard: 'カードの表面をカメラに向けてください', showCardHint: '顔写真のある面を、カード全体が映るように、まっすぐ見せてください',
      cardSeen: {
        no_card: 'カードが見つかりません。顔写真のある面をカメラに向けてください', several_cards: 'カードは1枚だけ見せてください',
        not_a_card: 'カード全体が映るように、少し離して平らに持ってください', back_shown: 'カードの裏面です。顔写真のある表面を見せてください',
        read_again: 'カードを動かさずに、光が反射しないように持ってください',
      },
      cardRead: 'カードを読み取りました。カードをおろして、カメラを見てください',
      cardWrong: (n) => 'カードの表面から読み取った番号が、カードリーダーのカードと合いませんでした。安全のため、もう一度は試しません（あと' + n + '回まちがえるとロックされます）。',
      cardLocked: 'このカードの券面情報はロックされています（解除は市区町村の窓口です）。',
      cardToStaff: 'カードの表面を読み取れませんでした。',
      cardFaceNone: 'この受付機はカードの表面を読み取れません。',
      checking: '確認しています…', tryAgain: 'もう一度カメラを見てください', left: (n) => '（あと' + n + '回）',
      retry: {
        no_face: '顔が見つかりません。カメラの正面に立ってください', several_faces: '一人だけで映ってください',
        too_small: 'もう少しカメラに近づいてください', blurred: '動かずに、少しお待ちください',
        too_dark: '明るい場所で、カメラを見てください', too_bright: '光が強すぎます。少し位置をずらしてください',
        turned_away: 'カメラの方をまっすぐ見てください',
      },
      pinTitle: '暗証番号（数字4桁）を入力してください', ok: '決定', back: 'もどる',
      pinTries: (n) => 'あと' + n + '回まちがえるとロックされます（3回でロック）',
      pinWrong: (n) => '暗証番号が違います。あと' + n + '回まちがえるとロックされます',
      pinLocked: '暗証番号がロックされています。顔認証か、受付での確認をお選びください（ロックの解除は市区町村の窓口です）',
      toStaff: '受付へお越しください', toStaffHint: '職員がカードの写真で本人確認をします。カードはそのまま置いておいてください。',
      cameraNone: 'カメラが使えないため、職員が確認します。',
      regTitle: 'このカードは健康保険証として利用登録されていません', regAsk: '今ここで利用登録をしますか？',
      regDone: '健康保険証として利用登録しました', regDoneHint: '次に、情報の提供に同意するかを選びます。', next: '次へ',
      operator: '操作している人', keyClear: '訂正',
      yes: 'はい、登録します', no: 'いいえ',
      consentTitle: '情報の提供に同意しますか', consentHint: 'この医療機関・薬局が見てもよい情報を選んでください',
      medication: '薬剤情報（これまでのお薬）', checkup: '特定健診等の情報', clinical: '診療情報（受けた診療・手術）',
      limit: '限度額適用区分（高額療養費の上限）', helper: '家族・介助者が本人に代わって操作しています', agree: '決定して次へ',
      rxTitle: '処方箋の受け取り方を選んでください', rxElectronic: '電子処方箋', rxPaper: '紙の処方箋',
      rxHint: '電子処方箋は、薬局でマイナ保険証などを使って受け取ります。', rxMissing: '処方箋の受け取り方を選んでください',
      recipients: '医療費助成の各種受給者証を利用しますか', recipientsYes: '受給者証を利用する（難病・小児慢性・子ども医療費など）',
      done: '受付が完了しました', doneHint: 'カードをお取りください。お呼びするまでお待ちください。', finish: '終わる',
      graceCard: '・電子証明書の期限切れ',
      grace: (d) => 'カードの電子証明書の有効期限が切れています。' + d + 'までは保険資格の確認だけができます（お薬や健診の情報の提供はできません）。お住まいの市区町村の窓口で電子証明書を更新してください。',
      fallback: 'カードでの資格確認ができませんでした',
      fb: {
        eligibility_certificate: '資格確認書をお持ちの方は、受付にお出しください',
        health_insurance_card: '有効期限内の健康保険証をお持ちの方は、受付にお出しください',
        qualification_notice_with_card: '「資格情報のお知らせ」をお持ちの方は、このカードと一緒に受付にお出しください',
        mynaportal_screen: 'スマートフォンのマイナポータルで資格情報の画面を受付にお見せください',
        self_declaration_form: '受付で「資格申立書」にご記入ください',
      },
      rejected: '職員による本人確認ができませんでした。受付の案内に従ってください。',
      down: 'ただいまオンライン資格確認ができません',
      downFace: '資格確認書、または「資格情報のお知らせ」とこのカードを受付へお出しください。お持ちでない方は受付で「資格申立書」にご記入ください（顔認証マイナンバーカードではマイナポータルは使えません）。',
      downStd: '資格確認書、「資格情報のお知らせ」とこのカード、またはスマートフォンのマイナポータルの資格情報画面を受付でお見せください。お持ちでない方は「資格申立書」にご記入ください。',
      certificate: 'このカードは使えません（電子証明書の有効期限切れ、または失効）。市区町村の窓口にご相談ください。受付では資格確認書でも確認できます。',
      removed: 'カードが取り外されました。もう一度置いてください', unreadable: 'カードを読み取れませんでした。置き直してください',
      error: 'うまくいきませんでした。受付の職員にお声がけください',
    },
    en: {
      title: 'Check in with your My Number card', place: 'Please place your My Number card on the reader',
      demo: 'Demo: choose the card to place', faceCard: 'Face-auth My Number card', stdCard: 'My Number card',
      helperPlaces: 'A family member or helper places the card', reading: 'Reading the card…',
      choose: 'How would you like to confirm your identity?', byFace: 'Face recognition', byPin: 'PIN', byStaff: 'Ask the reception staff',
      look: 'Please look at the camera', lookHint: 'Face the camera so your whole face is visible',
      turnHead: 'Please turn your head slowly a little to the left and right',
      showCard: 'Please hold the front of your card to the camera', showCardHint: 'Show the side with your photo, the whole card in view, held flat',
      cardSeen: {
        no_card: 'No card found. Hold the side with your photo to the camera', several_cards: 'Please show one card only',
        not_a_card: 'Hold the card flat, a little further away, so the whole card is in view', back_shown: 'This is the back. Please show the side with your photo',
        read_again: 'Please hold the card still, away from reflections',
      },
      cardRead: 'The card was read. Please lower it and look at the camera',
      cardWrong: (n) => 'The number read from the card does not match the card on the reader. For safety it is not tried again (' + n + ' more wrong tries will lock it).',
      cardLocked: "This card's face data is locked (the municipal office can reset it).",
      cardToStaff: "The card's face could not be read.",
      cardFaceNone: "This kiosk cannot read the card's face.",
      checking: 'Checking…', tryAgain: 'Please look at the camera again', left: (n) => ' (' + n + ' left)',
      retry: {
        no_face: 'No face found. Please stand in front of the camera', several_faces: 'Only one person, please',
        too_small: 'Please come a little closer', blurred: 'Please hold still', too_dark: 'Too dark. Please face the light',
        too_bright: 'Too bright. Please move a little', turned_away: 'Please look straight at the camera',
      },
      pinTitle: 'Enter your 4-digit PIN', ok: 'OK', back: 'Back',
      pinTries: (n) => n + ' wrong tries left before the PIN locks (it locks after 3)',
      pinWrong: (n) => 'Wrong PIN. ' + n + ' more wrong tries will lock it',
      pinLocked: 'The PIN is locked. Choose face recognition or the reception staff (the municipal office can unlock it)',
      toStaff: 'Please go to the reception desk', toStaffHint: 'Staff will confirm your identity with the card photo. Leave the card on the reader.',
      cameraNone: 'The camera is not available, so staff will confirm.',
      regTitle: 'This card is not registered as a health insurance card', regAsk: 'Register it now?',
      regDone: 'Your card is now registered as a health insurance card', regDoneHint: 'Next, choose what information you agree to share.', next: 'Next',
      operator: 'Who is operating', keyClear: 'Clear',
      yes: 'Yes, register', no: 'No',
      consentTitle: 'Do you agree to share information?', consentHint: 'Choose what this clinic or pharmacy may see',
      medication: 'Medication history', checkup: 'Health checkup results', clinical: 'Clinical history (treatments, surgery)',
      limit: 'Copay limit category', helper: 'A family member or helper is operating for the patient', agree: 'Confirm',
      rxTitle: 'How would you like your prescription?', rxElectronic: 'Electronic prescription', rxPaper: 'Paper prescription',
      rxHint: 'An electronic prescription is collected at the pharmacy with your card.', rxMissing: 'Please choose how you would like your prescription',
      recipients: 'Do you use medical-expense subsidy certificates?', recipientsYes: 'Use my recipient certificates (intractable diseases, children, …)',
      done: 'Check-in complete', doneHint: 'Please take your card and wait to be called.', finish: 'Finish',
      graceCard: ', certificate expired',
      grace: (d) => "Your card's certificate has expired. Until " + d + ' it still confirms your insurance, but no medication or checkup information can be shared. Please renew the certificate at your municipal office.',
      fallback: 'The card check could not be done',
      fb: {
        eligibility_certificate: 'If you have an eligibility certificate (資格確認書), please show it at reception',
        health_insurance_card: 'If you have a health insurance card still in its validity, please show it at reception',
        qualification_notice_with_card: 'If you have the notice of qualification (資格情報のお知らせ), please show it at reception with this card',
        mynaportal_screen: "Please show Mynaportal's eligibility screen on your phone at reception",
        self_declaration_form: 'Please fill in the self-declaration form at reception',
      },
      rejected: 'Staff could not confirm your identity. Please follow the reception desk.',
      down: 'The online check is not available right now',
      downFace: 'Show your eligibility certificate, or the notice of qualification with this card, at reception; without one, fill in the self-declaration form (Mynaportal cannot be used with a face-auth card).',
      downStd: "Show your eligibility certificate, the notice of qualification with this card, or Mynaportal's eligibility screen at reception; without one, fill in the self-declaration form.",
      certificate: 'This card cannot be used (its certificate has expired or was revoked). Please ask your municipal office; reception can also check your eligibility certificate.',
      removed: 'The card was removed. Please place it again', unreadable: 'The card could not be read. Please place it again',
      error: 'Something went wrong. Please ask the reception staff',
    },
  };
  const t = () => W[lang];
  const screen = document.getElementById('screen');
  const h = (tag, attrs, ...children) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
  };
  // Optional parts are passed as null: they are left out, never shown as the text "null".
  const show = (...children) => { screen.replaceChildren(...children.filter((c) => c !== null && c !== undefined && c !== false)); };

  let card = null;   // { id, face_auth, placed_by }
  let view = null;   // the server's view of the visit
  let redraw = () => start();
  document.getElementById('lang').addEventListener('click', (ev) => {
    lang = lang === 'ja' ? 'en' : 'ja';
    document.documentElement.lang = lang;
    ev.target.textContent = lang === 'ja' ? 'English' : '日本語';
    redraw();
  });

  const call = async (method, path, body, raw) => {
    const opts = { method, headers: {} };
    if (raw) { opts.body = raw; opts.headers['content-type'] = 'image/jpeg'; }
    else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers['content-type'] = 'application/json'; }
    let res;
    try { res = await fetch('/kiosk/api/' + path, opts); } catch (e) { throw { code: 'server_unreachable' }; }
    if (res.status === 204) return null;
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw (data.error || { code: 'error' });
    return data;
  };

  // Each step's answer says what comes next.
  const advance = (step) => {
    view = step.visit;
    switch (view.next) {
      case 'identity': return identity();
      case 'visual_mode': return staffDesk();
      case 'registration_offer': return registration();
      case 'consent': return consent();
      case 'done': return done();
      default: return fallback(view.fallback && view.fallback.options, view.state && view.state.reason);
    }
  };

  const failed = (e) => {
    if (!e) return fallback();
    if (e.code === 'server_unreachable' || e.code === 'service_down') return down();
    if (e.code && e.code.startsWith('certificate_')) return message(t().certificate, true);
    if (e.code === 'card_removed') return message(t().removed, true);
    if (e.code === 'card_unreadable' || e.code === 'number_b_wrong') return message(t().unreadable, true);
    return message(t().error, true);
  };

  const message = (text, endButton) => {
    redraw = () => message(text === t().error ? W[lang].error : text, endButton);
    show(h('h2', { role: 'alert' }, text), endButton ? h('button', { onclick: finish }, t().finish) : null);
  };

  // 1. Place the card.
  const start = async () => {
    redraw = start;
    card = null; view = null;
    const helper = h('input', { type: 'checkbox', id: 'helper_places' });
    const list = h('div', { class: 'choices' });
    show(h('h2', {}, t().place), h('p', { class: 'small' }, t().demo), list,
      h('label', { class: 'toggle' }, helper, t().helperPlaces));
    try {
      const cards = await call('GET', 'cards');
      const onReader = cards.find((c) => c.on_reader);
      if (onReader) await call('DELETE', 'card');
      const reader = cards.find((c) => c.pcsc);
      if (reader) return waitForCard(reader, helper, list);
      for (const c of cards) {
        list.append(h('button', { 'data-card': c.id, onclick: () => place(c, helper.checked ? 'helper' : 'patient') },
          (c.face_auth ? t().faceCard : t().stdCard) + (c.certificate_grace ? t().graceCard : '') + '（' + c.id + '）'));
      }
    } catch (e) { failed(e); }
  };

  const place = async (c, placedBy) => {
    show(h('h2', {}, t().reading));
    card = { id: c.id, face_auth: c.face_auth, placed_by: placedBy };
    try { placed(await call('POST', 'card', { card_id: c.id, placed_by: placedBy })); } catch (e) { failed(e); }
  };

  // The server knows the card's kind from its certificate.
  const placed = (step) => {
    card.face_auth = step.visit.card_kind === 'face_auth';
    // A face-auth card whose 照合番号B the kiosk must read from the card's printed face first.
    card.read_card_face = !!step.read_card_face;
    advance(step);
  };

  // A PC/SC reader: ask for the card and try until one is there.
  let waiting = null;
  const waitForCard = (reader, helper, list) => {
    list.replaceChildren(h('p', { class: 'small', 'data-testid': 'waiting-for-card' }, '…'));
    clearInterval(waiting);
    waiting = setInterval(async () => {
      try {
        const placedBy = helper.checked ? 'helper' : 'patient';
        const step = await call('POST', 'card', { card_id: reader.id, placed_by: placedBy });
        clearInterval(waiting);
        card = { id: reader.id, face_auth: null, placed_by: placedBy };
        show(h('h2', {}, t().reading));
        placed(step);
      } catch (e) {
        if (e.code === 'no_card') return;
        clearInterval(waiting);
        failed(e);
      }
    }, 1000);
  };

  // 2. Identity: face-auth cards go straight to the camera (never a PIN); standard cards choose.
  const identity = () => {
    if (card.face_auth) return card.read_card_face ? cardFace() : camera();
    redraw = identity;
    show(h('h2', {}, t().choose), h('div', { class: 'choices' },
      h('button', { onclick: camera, 'data-testid': 'by-face' }, t().byFace),
      h('button', { onclick: pinPad, 'data-testid': 'by-pin' }, t().byPin),
      h('button', { class: 'secondary', onclick: toStaff }, t().byStaff)));
  };

  let stream = null;
  const stopCamera = () => { if (stream) stream.getTracks().forEach((tr) => tr.stop()); stream = null; };

  // The camera, opened once per visit: the card-face step and the face step share it.
  const openCamera = async (video) => {
    if (!stream) stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    video.srcObject = stream;
    await new Promise((r) => { if (video.readyState >= 2) r(); else video.onloadeddata = r; });
  };
  const grab = (video, canvas) => {
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    canvas.getContext('2d').drawImage(video, 0, 0);
    return new Promise((r) => canvas.toBlob(r, 'image/jpeg', 0.92));
  };
  const pause = (ms) => new Promise((r) => setTimeout(r, ms));

  // The card's outline as the kiosk found it, drawn over the live picture.
  const drawOutline = (overlay, video, r) => {
    overlay.width = video.clientWidth; overlay.height = video.clientHeight;
    const g = overlay.getContext('2d');
    g.clearRect(0, 0, overlay.width, overlay.height);
    overlay.dataset.outline = r.outline ? 'found' : 'none';
    if (!r.outline || !r.frame[0]) return;
    const sx = overlay.width / r.frame[0]; const sy = overlay.height / r.frame[1];
    g.strokeStyle = r.seen === 'read_again' ? '#f0a000' : '#00a050'; g.lineWidth = 6;
    g.beginPath();
    r.outline.forEach(([x, y], i) => (i ? g.lineTo(x * sx, y * sy) : g.moveTo(x * sx, y * sy)));
    g.closePath(); g.stroke();
  };

  // 2a. A face-auth card whose 照合番号B the kiosk does not know (every real card): the patient
  // shows the card's printed face; the kiosk reads it and opens the card's photo with it.
  const cardFace = async () => {
    const status = h('p', { 'data-testid': 'card-face-status' }, t().showCardHint);
    const video = h('video', { autoplay: true, muted: true, playsinline: true });
    const overlay = h('canvas', { class: 'outline', 'data-testid': 'card-outline' });
    redraw = () => {};
    show(h('h2', {}, t().showCard), h('div', { class: 'live' }, video, overlay), status,
      h('div', {}, h('button', { class: 'secondary', onclick: () => { stopCamera(); toStaff(); } }, t().byStaff)));
    try { await openCamera(video); } catch (e) { return toStaff(t().cameraNone); }
    const canvas = h('canvas');
    for (;;) {
      await pause(400);
      if (!stream) return;
      const jpeg = await grab(video, canvas);
      let r;
      try { r = await call('POST', 'card-face', undefined, jpeg); } catch (e) {
        stopCamera();
        if (e.code === 'card_face_unreadable') return toStaff(t().cardFaceNone);
        return failed(e);
      }
      if (!stream) return;
      drawOutline(overlay, video, r);
      if (r.seen === 'opened') {
        card.read_card_face = false;
        status.textContent = t().cardRead;
        await pause(1000);
        return camera();
      }
      if (r.seen === 'wrong') { stopCamera(); return toStaff(t().cardWrong(r.tries_left)); }
      if (r.seen === 'locked') { stopCamera(); return toStaff(t().cardLocked); }
      if (r.seen === 'to_staff') { stopCamera(); return toStaff(t().cardToStaff); }
      status.textContent = t().cardSeen[r.seen] || t().showCardHint;
    }
  };

  const camera = async () => {
    const status = h('p', { 'data-testid': 'face-status' }, t().lookHint);
    const video = h('video', { autoplay: true, muted: true, playsinline: true });
    redraw = () => {};
    show(h('h2', {}, t().look), video, status);
    try { await openCamera(video); } catch (e) {
      // Denied or absent: staff confirm visually.
      return toStaff(t().cameraNone);
    }
    const canvas = h('canvas');
    for (;;) {
      await pause(400);
      if (!stream) return;
      const jpeg = await grab(video, canvas);
      status.textContent = t().checking;
      let step;
      try { step = await call('POST', 'face', undefined, jpeg); } catch (e) {
        stopCamera();
        if (e.code === 'card_photo_unusable' || e.code === 'no_engine') return toStaff();
        return failed(e);
      }
      const f = step.face || {};
      if (step.visit.instruction === 'turn_head') {
        status.textContent = t().turnHead;
        continue;
      }
      if (step.visit.instruction === 'keep_looking') {
        status.textContent = t().checking;
        continue;
      }
      if (f.decision === 'retry') {
        if (step.visit.quality_retries_left === 0) { stopCamera(); return toStaff(); }
        status.textContent = t().retry[f.reason] || t().lookHint;
        continue;
      }
      if (step.visit.next === 'identity') {
        if (step.visit.face_attempts_left === 0) { stopCamera(); return toStaff(); }
        status.textContent = t().tryAgain + t().left(step.visit.face_attempts_left);
        await new Promise((r) => setTimeout(r, 1200));
        continue;
      }
      stopCamera();
      // Attempts ran out: hand staff the card photo with the visit.
      if (step.visit.next === 'visual_mode') return toStaff();
      return advance(step);
    }
  };

  const pinPad = (note) => {
    redraw = () => pinPad(note);
    const input = h('input', { class: 'pin', type: 'password', inputmode: 'numeric', maxlength: 4, autocomplete: 'off', 'aria-label': t().pinTitle, id: 'pin' });
    const msg = h('p', { role: 'alert', 'data-testid': 'pin-note' }, typeof note === 'string' ? note : '');
    // Before the first try, say how many the card allows, so nobody locks it unawares.
    if (typeof note !== 'string') {
      call('GET', 'pin').then((r) => { if (!msg.textContent) msg.textContent = t().pinTries(r.tries_left); }).catch(() => {});
    }
    const ok = h('button', { 'data-testid': 'pin-ok' }, t().ok);
    const submit = async () => {
      if (ok.disabled) return;
      ok.disabled = true;
      try { advance(await call('POST', 'pin', { pin: input.value })); } catch (e) {
        ok.disabled = false;
        if (e.code === 'pin_wrong') return pinPad(t().pinWrong(e.tries_left));
        if (e.code === 'pin_locked') {
          return show(h('h2', { role: 'alert' }, t().pinLocked), h('div', { class: 'choices' },
            h('button', { onclick: camera }, t().byFace), h('button', { onclick: toStaff }, t().byStaff)));
        }
        failed(e);
      }
    };
    ok.addEventListener('click', submit);
    input.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') submit(); });
    // Large keys on the screen: many patients cannot use a small keyboard.
    const key = (label, press) => h('button', { type: 'button', class: 'key', 'data-key': label, onclick: press }, label);
    const type = (d) => () => { if (input.value.length < 4) input.value += d; input.focus(); };
    const keypad = h('div', { class: 'keypad' },
      ...['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((d) => key(d, type(d))),
      key(t().keyClear, () => { input.value = ''; input.focus(); }), key('0', type('0')), ok);
    show(h('h2', {}, t().pinTitle), input, msg, keypad, h('div', {}, h('button', { class: 'secondary', onclick: identity }, t().back)));
    input.focus();
  };

  // Visual mode: the patient goes to the desk; the kiosk waits for staff's decision.
  const toStaff = async (note) => {
    try { view = (await call('POST', 'visual')).visit; } catch (e) { return failed(e); }
    staffDesk(note);
  };
  let polling = null;
  const staffDesk = (note) => {
    redraw = () => staffDesk(note);
    show(h('h2', { 'data-testid': 'go-to-staff' }, t().toStaff), typeof note === 'string' ? h('p', {}, note) : null, h('p', {}, t().toStaffHint));
    clearInterval(polling);
    polling = setInterval(async () => {
      try {
        const step = await call('GET', 'visit');
        if (step.visit.next !== 'visual_mode') { clearInterval(polling); advance(step); }
      } catch (e) { /* keep waiting; staff can also help at the desk */ }
    }, 1500);
  };

  const registration = () => {
    redraw = registration;
    const answer = (accept) => async (ev) => {
      ev.target.disabled = true;
      try {
        const step = await call('POST', 'registration', { accept });
        // Say that it worked before moving on: the patient asked for something and should know
        // it was done.
        if (accept && step.visit.registered) return registered(step);
        advance(step);
      } catch (e) { failed(e); }
    };
    show(h('h2', {}, t().regTitle), h('p', {}, t().regAsk), h('div', { class: 'choices' },
      h('button', { onclick: answer(true) }, t().yes), h('button', { class: 'secondary', onclick: answer(false) }, t().no)));
  };

  const registered = (step) => {
    redraw = () => registered(step);
    show(h('h2', { 'data-testid': 'registered' }, t().regDone), h('p', {}, t().regDoneHint),
      h('button', { 'data-testid': 'registered-next', onclick: () => advance(step) }, t().next));
  };

  // Consent per category; apart from them, who is operating (the helper switch).
  const consent = () => {
    const box = (name, label) => h('label', {}, h('input', { type: 'checkbox', name, id: 'c_' + name }), label);
    const helper = h('input', { type: 'checkbox', id: 'c_assisted', checked: card && card.placed_by === 'helper' });
    const form = h('div', { class: 'consent' },
      box('medication', t().medication), box('checkup', t().checkup), box('clinical', t().clinical), box('limit_amount', t().limit));
    const who = h('fieldset', { class: 'operator' }, h('legend', {}, t().operator),
      h('label', { class: 'toggle' }, helper, t().helper));
    // Where the institution issues electronic prescriptions, the patient chooses with the consent.
    const rxNote = h('p', { role: 'alert', 'data-testid': 'rx-note' });
    const rx = view && view.asks_prescription
      ? h('fieldset', { class: 'consent prescription' }, h('legend', {}, t().rxTitle),
        h('label', {}, h('input', { type: 'radio', name: 'prescription', value: 'electronic', id: 'rx_electronic' }), t().rxElectronic),
        h('label', {}, h('input', { type: 'radio', name: 'prescription', value: 'paper', id: 'rx_paper' }), t().rxPaper),
        h('p', { class: 'small' }, t().rxHint), rxNote)
      : null;
    if (rx) rx.addEventListener('change', () => { rxNote.textContent = ''; });
    // 公費: the recipient certificates recorded for the patient go with the result if they say so.
    const certs = h('fieldset', { class: 'consent recipients' }, h('legend', {}, t().recipients),
      h('label', {}, h('input', { type: 'checkbox', name: 'recipient_certificates', id: 'c_recipient_certificates' }), t().recipientsYes));
    redraw = consent;
    const agree = h('button', { 'data-testid': 'consent-ok' }, t().agree);
    agree.addEventListener('click', async () => {
      if (agree.disabled) return;
      agree.disabled = true;
      const pick = (n) => form.querySelector('[name=' + n + ']').checked;
      const prescription = rx ? (rx.querySelector('input[name=prescription]:checked') || {}).value : undefined;
      if (rx && !prescription) { agree.disabled = false; rxNote.textContent = t().rxMissing; return; }
      try {
        advance(await call('POST', 'consent', {
          medication: pick('medication'), checkup: pick('checkup'), clinical: pick('clinical'),
          limit_amount: pick('limit_amount'), assisted: helper.checked, prescription,
          recipient_certificates: certs.querySelector('input').checked,
        }));
      } catch (e) { agree.disabled = false; failed(e); }
    });
    show(h('h2', {}, t().consentTitle), h('p', { class: 'small' }, t().consentHint), form, certs, rx, who, agree);
  };

  const done = () => {
    redraw = done;
    // In the certificate's grace period there was no consent step: say why, and what to do.
    const grace = view && view.certificate_grace_until
      ? h('p', { role: 'alert', class: 'notice warn', 'data-testid': 'certificate-grace' }, t().grace(longDate(view.certificate_grace_until)))
      : null;
    show(h('h2', { 'data-testid': 'done' }, t().done), grace, h('p', {}, t().doneHint), h('button', { onclick: finish }, t().finish));
  };
  // 2027-01-31 → 2027年1月31日 (the patient reads dates this way; the era is on reception's screen).
  const longDate = (iso) => {
    const [y, m, d] = iso.split('-').map(Number);
    return lang === 'ja' ? y + '年' + m + '月' + d + '日' : new Date(iso + 'T00:00:00Z').toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  };

  const fallback = (options, reason) => {
    redraw = () => fallback(options, reason);
    show(h('h2', { role: 'alert', 'data-testid': 'fallback' }, t().fallback),
      reason === 'identity_not_confirmed' ? h('p', {}, t().rejected) : null,
      h('ul', { class: 'small left' }, (options || ['eligibility_certificate', 'self_declaration_form']).map((o) => h('li', {}, t().fb[o] || o))),
      h('button', { onclick: finish }, t().finish));
  };

  const down = () => {
    redraw = down;
    show(h('h2', { role: 'alert', 'data-testid': 'service-down' }, t().down),
      h('p', { class: 'small' }, card && !card.face_auth ? t().downStd : t().downFace),
      h('button', { onclick: finish }, t().finish));
  };

  const finish = async () => {
    stopCamera(); clearInterval(polling); clearInterval(waiting);
    try { await call('DELETE', 'card'); } catch (e) { /* nothing on the reader */ }
    lang = 'ja'; document.documentElement.lang = 'ja'; document.getElementById('lang').textContent = 'English';
    start();
  };

  start();
})();
