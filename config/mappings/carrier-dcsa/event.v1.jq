# DCSA Track & Trace events (JSON: one event or an array) -> canonical milestones.
# Only actual (ACT) events move `status`; estimated/planned ones are reported as
# ETA_UPDATED when nothing actual has happened yet.
def code: .transportEventTypeCode // .equipmentEventTypeCode // .shipmentEventTypeCode;

[as_list[] | {
    id: .eventID,
    type: .eventType,
    classifier: .eventClassifierCode,
    code: code,
    milestone: ($tables.status.dcsa_event_codes[code]
                // error("carrier-dcsa: event type code \(code) is not in the status table")),
    at: .eventDateTime,
    location: ((.eventLocation.UNLocationCode)? // (.transportCall.location.UNLocationCode)? // null),
    equipment: (.equipmentReference // null),
    references: [(.documentReferences // [])[] | {(.documentReferenceType): .documentReferenceValue}] | add
  }] as $events
| ($events | map(select(.classifier == "ACT")) | sort_by(.at)) as $actual
| {
    status: (if ($actual | length) > 0 then ($actual | last | .milestone) else "ETA_UPDATED" end),
    events: $events
  }
