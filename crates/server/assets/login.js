'use strict';
(() => {
  const en = K.lang() === 'en';
  if (en) {
    document.documentElement.lang = 'en';
    document.getElementById('title').textContent = 'Staff sign-in';
    document.getElementById('l_staff').textContent = 'Staff ID';
    document.getElementById('l_password').textContent = 'Password';
    document.getElementById('submit').textContent = 'Sign in';
    document.getElementById('kiosk_link').textContent = 'Open the patient kiosk';
  }
  K.header('kakunin');
  const message = document.getElementById('message');
  const reason = sessionStorage.getItem('kakunin.reason');
  if (reason) {
    sessionStorage.removeItem('kakunin.reason');
    K.notice(message, 'error', K.message({ code: reason }));
  }
  document.getElementById('demo').textContent = en
    ? 'Demo: staff-reception / demo-reception, staff-pharmacist / demo-pharmacist, staff-clerk / demo-clerk'
    : 'デモ用: staff-reception / demo-reception（受付）、staff-pharmacist / demo-pharmacist（薬局）、staff-clerk / demo-clerk（市区町村窓口）';
  const form = document.getElementById('login');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    K.once(document.getElementById('submit'), async () => {
      try {
        const s = await K.api('POST', '/api/v1/sessions', {
          staff_id: form.staff_id.value, password: form.password.value,
        });
        sessionStorage.setItem('kakunin.token', s.token);
        sessionStorage.setItem('kakunin.staff', JSON.stringify(s.staff));
        location.href = s.staff.role === 'municipal_clerk' ? '/municipal' : '/reception';
      } catch (e) {
        K.notice(message, 'error', K.message(e));
        form.password.value = '';
      }
    });
  });
})();
