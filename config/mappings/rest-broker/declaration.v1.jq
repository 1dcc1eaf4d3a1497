# Canonical export declaration -> REST broker JSON (docs in config/partners/rest-broker.toml).
# The LRN is the idempotency key: the broker answers a repeated POST with the first result.
def party: {eori: (.eori // null), name: .name, address: .address};

. as $d
| {
    idempotency_key: $d.lrn,
    declaration: {
      lrn: $d.lrn,
      kind: "export",
      type: ($d.declaration_type + "/" + $d.additional_declaration_type),
      procedure: $d.procedure,
      office_of_exit: $d.office_of_exit,
      destination_country: $d.destination_country,
      incoterm: {code: $d.incoterm, place: $d.incoterm_place},
      invoice: {amount: $d.invoice_total, currency: $d.currency},
      parties: {exporter: ($d.exporter | party), consignee: ($d.consignee | party), declarant: ($d.declarant | party)},
      transport: {mode: $d.transport.mode, vessel: $d.transport.vessel, container: $d.transport.container},
      items: [$d.lines[] | {
        number: .line,
        commodity_code: .hs_code,
        description: .description,
        origin_country: .origin,
        quantity: {value: .quantity, unit: .unit},
        mass_kg: {net: .net_mass, gross: .gross_mass},
        value: {amount: .value, currency: $d.currency},
        packages: .packages
      }]
    },
    callback: {events: ["status"], signature: "hmac-sha256"}
  }
