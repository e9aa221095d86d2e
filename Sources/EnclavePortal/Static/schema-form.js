// Generated resource forms: shows a conditional field only while its condition holds (data-show-if),
// live as the user changes the fields it depends on. A hidden field is also disabled, so it is neither
// submitted nor validated. Without this script every field is shown with a hint saying when it applies,
// and the server reads only the fields whose condition holds.
(function () {
  'use strict';

  // The value a control would submit, or undefined when it would submit nothing.
  function valueOf(form, name) {
    var controls = Array.prototype.filter.call(form.elements, function (el) { return el.name === name; });
    if (controls.length !== 1) return undefined;
    var control = controls[0];
    if (control.disabled) return undefined;
    if (control.type === 'checkbox') return control.checked ? 'true' : 'false';
    return control.value === '' ? undefined : control.value;
  }

  function holds(form, condition) {
    var all = condition.all.every(function (clause) {
      var value = valueOf(form, clause.name);
      if (value === undefined) return !clause.required;
      return clause.values.length === 0 || clause.values.indexOf(value) !== -1;
    });
    return condition.negate ? !all : all;
  }

  function setEnabled(element, enabled) {
    var controls = Array.prototype.slice.call(element.querySelectorAll('input, select, textarea'));
    if (element.matches('fieldset')) controls.push(element);
    controls.forEach(function (control) {
      if (control.dataset.locked === 'true') return;
      control.disabled = !enabled;
      if (control.hasAttribute('data-required')) control.required = enabled;
    });
  }

  // `everything`: apply to every conditional element, not only those that change (on load, so a shown
  // field that is required while shown gets its `required`).
  function update(form, everything) {
    // Showing one field can satisfy another's condition, so settle in a few passes.
    for (var pass = 0; pass < 5; pass++) {
      var changed = false;
      form.querySelectorAll('[data-show-if]').forEach(function (element) {
        var condition;
        try { condition = JSON.parse(element.getAttribute('data-show-if')); } catch (e) { return; }
        var show = holds(form, condition);
        if (element.hidden !== show && !(everything && pass === 0)) return;
        element.hidden = !show;
        setEnabled(element, show);
        changed = true;
      });
      if (!changed) return;
    }
  }

  document.querySelectorAll('form.schema-form').forEach(function (form) {
    form.querySelectorAll('input, select, textarea, fieldset').forEach(function (control) {
      if (control.disabled) control.dataset.locked = 'true';
    });
    form.addEventListener('change', function () { update(form, false); });
    form.addEventListener('input', function () { update(form, false); });
    update(form, true);
  });
})();
