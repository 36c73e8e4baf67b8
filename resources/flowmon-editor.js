/* Editor helpers shared by the appliance configuration dialogs of @flowmon-response/node-red-flowmon.
 * Node-RED serves this file at resources/@flowmon-response/node-red-flowmon/flowmon-editor.js. */
(function () {
  'use strict';
  var ENV = /^\$\{\w+\}$/;

  window.FlowmonResponseEditor = {
    /** Validator: empty, a number, or a whole-field ${ENV_VAR}. */
    numberOrEnv: function (v) {
      return v === undefined || v === '' || ENV.test(String(v)) || !isNaN(Number(v));
    },

    /** Validator of "Accept any" (both appliances): empty, true, false, or a whole-field ${ENV_VAR}. */
    boolOrEnv: function (v) {
      return v === undefined || v === '' || v === true || v === false || /^(true|false)$/i.test(String(v)) || ENV.test(String(v));
    },

    /** Shows the TLS rows (classes `<prefix>-tls-ca|fingerprint|insecure|warning`) that the chosen mode uses. */
    showTlsFields: function (prefix) {
      function show() {
        var mode = $('#node-config-input-tlsMode').val();
        $('.' + prefix + '-tls-ca').toggle(mode === 'ca' || mode === 'auto');
        $('.' + prefix + '-tls-fingerprint').toggle(mode === 'fingerprint' || mode === 'auto');
        $('.' + prefix + '-tls-insecure').toggle(mode === 'auto');
        $('.' + prefix + '-tls-warning').toggle(mode === 'insecure');
      }
      $('#node-config-input-tlsMode').on('change', show);
      show();
    },

    /**
     * "Test connection": posts the dialog's current values (`fields`, read from #node-config-input-<field>) and the
     * node id to the admin endpoint `url`, and shows its {ok, message} answer in `result`. The runtime uses the
     * deployed node's credentials only while the URL, sign-in and TLS fields are as deployed; values are sent as
     * typed (`${VAR}` is never resolved for a test).
     */
    bindConnectionTest: function (button, result, url, nodeId, fields) {
      $(button).on('click', function (e) {
        e.preventDefault();
        $(result).text('…').css('color', '');
        var body = { id: nodeId };
        fields.forEach(function (name) {
          body[name] = $('#node-config-input-' + name).val();
        });
        $.ajax({ url: url, type: 'POST', contentType: 'application/json', data: JSON.stringify(body), dataType: 'json' })
          .done(function (reply) {
            $(result).text(reply.message).css('color', reply.ok ? 'green' : '#c00');
          })
          .fail(function (xhr) {
            var reply = xhr.responseJSON;
            var text =
              reply && reply.message
                ? reply.message
                : xhr.status === 401 || xhr.status === 403
                  ? 'not allowed: testing a connection needs the flowmon-response.write permission'
                  : 'request failed: ' + (xhr.status || '') + ' ' + (xhr.statusText || '');
            $(result).text(text).css('color', '#c00');
          });
      });
    },
  };
})();
