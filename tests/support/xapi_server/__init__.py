"""A faithful-enough XAPI (XenServer / XCP-ng) server for tests of a XenAPI backend.

No maintained XAPI simulator exists, so this one is built on the standard library
(``http.server`` and ``xmlrpc.client``) and spoken to over real HTTP by the official
``XenAPI`` client from PyPI (``XenAPI.Session(url)``).  Start one in-process::

    with XapiServer.running() as srv:          # 127.0.0.1, an ephemeral port
        session = XenAPI.Session(srv.url)
        session.login_with_password("root", "xenroot", "2.21", "tests")
        srv.db.set_power_state("web", "Paused")  # a change "from outside": a mod event

or standalone: ``python -m tests.support.xapi_server --port 8080 [--members]``.

Documentation followed (xapi-project.github.io, sources in xapi-project/xen-api):

* the XenAPI reference, https://xapi-project.github.io/xen-api/ : "XenAPI Basics"
  (field getters, ``get_by_uuid``, ``get_by_name_label``, map/set RPCs,
  MAP_DUPLICATE_KEY), "Wire Protocol" (XML-RPC; the Status/Value/ErrorDescription
  envelopes; ``int`` as decimal strings; ``void`` as ""; ``Async.*`` answering a
  task), the class pages of ``session``, ``pool``, ``host``, ``host_metrics``,
  ``VM``, ``VM_metrics``, ``VM_guest_metrics``, ``VIF``, ``VBD``, ``task`` and
  ``event`` (``event.from``: classes, token, timeout; ``event.inject``), and the
  reference's list of error codes with their parameters (``datamodel_errors.ml``);
* "Using HTTP to interact with XenServer" (``xen-api/http.md``): ``/rrd_updates``,
  its parameters (``start``, ``cf``, ``interval``, ``host=true``), rrdtool's
  ``xport`` format with the VM uuid in each legend entry, the 5 s / 1 min / 1 h /
  1 day archives, that legacy per-VM utilisation fields read zero, and that a host
  exports the VMs resident on it; authentication by session id or user/password;
* where the pages are silent, xapi's code: ``xapi_vm_lifecycle.ml`` (allowed
  power states, ``allowed_operations``, the order of checks and their error
  parameters), ``xapi_event.ml`` (tokens, add/mod/del, the long poll, SESSION_INVALID
  on logout), ``rrd_updates.ml`` (the XML elements, ``%0.4f`` values), and
  ``xapi_vm_helpers.ml`` (guest metrics dropped at each new domain).

Modelled:

* Wire format: XML-RPC on ``/``; every answer an envelope ``{"Status": "Success",
  "Value": v}`` or ``{"Status": "Failure", "ErrorDescription": [code, *params]}``;
  ``int`` fields as decimal strings, datetimes ``...Z``, refs ``OpaqueRef:<uuid>``,
  ``OpaqueRef:NULL``.  MESSAGE_METHOD_UNKNOWN [method]; MESSAGE_PARAMETER_COUNT_MISMATCH
  [method, expected, received] (session included); FIELD_TYPE_ERROR [parameter].
* Sessions: ``session.login_with_password`` (SESSION_AUTHENTICATION_FAILED [user,
  "Authentication failure"]), ``session.logout``, ``get_this_host``/``_user``/``_uuid``;
  expiry by idleness (``session_timeout=``) or at once (``srv.expire_sessions()``),
  after which calls, ``rrd_updates`` and blocked ``event.from`` answer SESSION_INVALID
  [session] (the XenAPI client then logs in again by itself).
* Pool roles: a server runs on one host; while that host is not ``pool.master``
  every call, login included, answers HOST_IS_SLAVE [master address].
  ``srv.member(host)`` serves another host of the pool; ``db.designate_new_master``.
* Classes pool, host, host_metrics, VM, VM_metrics, VM_guest_metrics, VIF, VBD, task:
  ``get_all``, ``get_all_records``, ``get_record``, ``get_by_uuid`` (UUID_INVALID
  [class, uuid]), ``get_by_name_label`` (host, VM, task), ``get_<field>``, a few
  setters and ``other_config`` map RPCs; unknown refs HANDLE_INVALID [class, ref].
  Bound fields stay consistent (``resident_VMs``, ``memory_free``, ``snapshots``).
  The default pool (``seed.py``): three hosts with their control domains, six guests
  in every power state, two templates, a snapshot.
* VM lifecycle: start, start_on, clean/hard_shutdown, clean/hard_reboot, pause,
  unpause, suspend, resume, resume_on, snapshot, destroy, assert_operation_valid and
  ``Async.VM.*``.  Checks in xapi's order: OPERATION_BLOCKED, VM_BAD_POWER_STATE
  [vm, expected, actual] (lower case, several expected joined by ", "),
  OTHER_OPERATION_IN_PROGRESS, VM_IS_TEMPLATE / VM_IS_SNAPSHOT [vm, op],
  OPERATION_NOT_ALLOWED on control domains, HOST_NOT_ENOUGH_FREE_MEMORY.
  ``allowed_operations`` follows from the same rules after every change; an
  operation shows in ``current_operations`` for ``srv.set_operation_delay(s)``.
* Events: ``event.from`` long poll and ``event.inject`` (see events.py).
* ``GET /rrd_updates`` per host with a deterministic generator (see rrd.py).
* Availability: ``srv.freeze("hang")`` (requests held unanswered),
  ``srv.freeze("close")`` (connections closed unanswered), ``srv.thaw()``,
  ``srv.stop()`` (waits for all its threads; the port is closed).

HTTPS (``XapiServer(tls=(cert, key))``, added for the XenAPI backend's tests: xapi
serves XML-RPC and its HTTP handlers over TLS on port 443).

Not modelled: JSON-RPC; the deprecated ``event.register``/``event.next``;
messages (the token's message half stays 0); storage (SR, VDI), networks, PIFs,
migration, clone/copy/import/export, RBAC, ``slave_local_login``; calls that a
member forwards to the master (a member only answers HOST_IS_SLAVE); guest feature
flags (every guest acts as if it had PV drivers, so VM_LACKS_FEATURE never comes);
tasks for synchronous calls; xapi's limit of sessions per user; the real RRD
consolidation (values are synthetic; only AVERAGE-style rows, whatever ``cf`` says).
"""

from __future__ import annotations

from .db import Database
from .errors import XapiError
from .seed import GUESTS, default_database
from .server import XapiServer

__all__ = ["GUESTS", "Database", "XapiError", "XapiServer", "default_database"]
