// Required first by the interop scripts (flows.js, ../browser/drive.js): every
// *.myqcloud.com name resolves to 127.0.0.1, where the test's emulator listens, and any
// other name is refused, so a sample run with the real virtual-host endpoint (only the
// port differs) never leaves the machine. Node's http/https look dns.lookup up at
// connect time, so replacing it here covers the SDKs' requests.
'use strict';

const dns = require('dns');

const realLookup = dns.lookup;
dns.lookup = function (host, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  if (/(^|\.)myqcloud\.com$/i.test(host) || host === 'localhost' || host === '127.0.0.1') {
    return realLookup.call(dns, '127.0.0.1', options, callback);
  }
  process.nextTick(callback, new Error(`harness: refusing to resolve ${host}; only the emulator is allowed`));
};
