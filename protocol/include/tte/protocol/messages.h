// All message documents of docs/PROTOCOL.md §6-§8 and §10 (JSON, and CBOR where CoAP carries them).
#pragma once

#include "tte/protocol/controller_messages.h"
#include "tte/protocol/mothership_messages.h"
#include "tte/protocol/station_messages.h"
