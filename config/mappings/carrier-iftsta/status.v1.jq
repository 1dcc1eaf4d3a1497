# Carrier UN/EDIFACT IFTSTA (D.00B) -> canonical milestones. Each STS opens an
# event; the DTM (334 status event date, 132/133 estimated/actual) and LOC that
# follow it belong to it. `status` is the milestone of the latest event.
def iso($v; $fmt): if $v == null then null
  elif $fmt == "203" then $v[0:4] + "-" + $v[4:6] + "-" + $v[6:8] + "T" + $v[8:10] + ":" + $v[10:12]
  elif $fmt == "102" then $v[0:4] + "-" + $v[4:6] + "-" + $v[6:8]
  else $v end;

(seg("UNB") | val(5)) as $interchange
| reduce .segments[] as $s (
    {refs: {}, events: [], carrier: null};
    if $s[0] == "NAD" and ($s | val(1)) == "CA" then .carrier = ($s | comp(2; 0))
    elif $s[0] == "STS" then
      ($s | comp(2; 0)) as $code
      | .events += [{
          code: $code,
          description: ($s | comp(2; 3)),
          milestone: ($tables.status.iftsta_9011[$code]
                      // error("carrier-iftsta: STS event \($code) is not in the status table")),
          at: null, location: null, references: {}
        }]
    elif ($s[0] == "RFF") and (.events | length) > 0 then
      .events[-1].references[($s | comp(1; 0))] = ($s | comp(1; 1))
    elif $s[0] == "RFF" then .refs[($s | comp(1; 0))] = ($s | comp(1; 1))
    elif $s[0] == "DTM" and (.events | length) > 0 and .events[-1].at == null
         and (["334", "178", "133"] | index($s | comp(1; 0))) != null then
      .events[-1].at = iso($s | comp(1; 1); $s | comp(1; 2))
    elif $s[0] == "LOC" and (.events | length) > 0 and .events[-1].location == null then
      .events[-1].location = ($s | comp(2; 0))
    else . end
  )
| if (.events | length) == 0 then error("carrier-iftsta: no STS segment") else . end
| {
    status: (.events | sort_by(.at) | last | .milestone),
    carrier: .carrier,
    interchange_ref: $interchange,
    references: .refs,
    events: .events
  }
