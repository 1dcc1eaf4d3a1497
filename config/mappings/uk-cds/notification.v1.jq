# UK CDS DMS notification (WCO RES, MetaData wrapper) -> canonical status.
# Prefixes differ between senders (none, md:, _2:), so names are compared without them.
def local: sub("^[^:@#]*:"; "");
def unprefix: walk(if type == "object" then with_entries(.key |= local) else . end);
def as_list: if . == null then [] elif type == "array" then . else [.] end;
def text: if type == "object" then .["#text"] else . end;

unprefix
| .MetaData.Response as $r
| ($r.Declaration | as_list | map(select(.ID != null or .FunctionalReferenceID != null)) | first // {}) as $decl
| ($r.FunctionCode | text) as $code
| ($r.Status | as_list | map(.NameCode | text) | map(select(. != null and . != ""))) as $names
| (if $code == "11" then
     ($names | map($tables.status.cds_request_name_codes[.]) | map(select(. != null)) | first)
       // error("DMSREQ (11) without a known customs position name code: \($names)")
   else
     $tables.status.cds_function_codes[$code]
       // error("CDS notification function code \($code) is not in the status table")
   end) as $status
| {
    status: $status,
    function_code: $code,
    notification: $tables.status.cds_message_names[$code],
    event: (if $code == "13" then "TAX_CALCULATED" else null end),
    lrn: ($decl.FunctionalReferenceID | text),
    mrn: ($decl.ID | text),
    issued_at: ($r.IssueDateTime.DateTimeString | text),
    errors: [$r.Error | as_list | .[] | {code: (.ValidationCode | text), description: (.Description | text)}]
  }
