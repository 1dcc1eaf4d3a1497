# Canonical export declaration -> UK CDS WCO DEC-DMS 3.6 declaration (MetaData wrapper).
# Element order follows WCO_DEC_DMS.xsd; prefixes md (DocumentMetaData) and the
# default DEC-DMS namespace are declared by the codec settings.
def mass: if . == null then null else (tonumber | tostring) end;

. as $d
| {
  "md:MetaData": {
    "md:WCODataModelVersionCode": "3.6",
    "md:WCOTypeName": "DEC",
    "md:ResponsibleCountryCode": "GB",
    "md:ResponsibleAgencyName": "HMRC",
    "md:AgencyAssignedCustomizationVersionCode": "v2.1",
    "Declaration": {
      "FunctionCode": "9",
      "FunctionalReferenceID": $d.lrn,
      "TypeCode": ($d.declaration_type + $d.additional_declaration_type),
      "GoodsItemQuantity": ($d.lines | length | tostring),
      "InvoiceAmount": {"@currencyID": $d.currency, "#text": $d.invoice_total},
      "TotalPackageQuantity": ([$d.lines[].packages.count | tonumber] | add | tostring),
      "BorderTransportMeans": {
        "ID": $d.transport.vessel,
        "IdentificationTypeCode": "11",
        "ModeCode": $d.transport.mode
      },
      "Declarant": {"ID": $d.declarant.eori},
      "ExitOffice": {"ID": $d.office_of_exit},
      "Exporter": {"ID": $d.exporter.eori},
      "GoodsShipment": {
        "Consignee": {
          "Name": $d.consignee.name,
          "Address": {
            "CityName": $d.consignee.address.city,
            "CountryCode": $d.consignee.address.country,
            "Line": $d.consignee.address.street,
            "PostcodeID": $d.consignee.address.postcode
          }
        },
        "Consignment": {
          "ContainerCode": (if $d.transport.container then "1" else "0" end),
          "TransportEquipment": {"SequenceNumeric": "1", "ID": $d.transport.container}
        },
        "Destination": {"CountryCode": $d.destination_country},
        "ExportCountry": {"ID": $d.export_country},
        "GovernmentAgencyGoodsItem": [
          $d.lines[] | {
            "SequenceNumeric": (.line | tostring),
            "StatisticalValueAmount": {"@currencyID": $d.currency, "#text": .value},
            "Commodity": {
              "Description": .description,
              "Classification": {"ID": .hs_code, "IdentificationTypeCode": "TSP"},
              "GoodsMeasure": {
                "GrossMassMeasure": {"@unitCode": "KGM", "#text": (.gross_mass | mass)},
                "NetNetWeightMeasure": {"@unitCode": "KGM", "#text": (.net_mass | mass)}
              }
            },
            "GovernmentProcedure": {"CurrentCode": $d.procedure[0:2], "PreviousCode": $d.procedure[2:4]},
            "Origin": {"CountryCode": .origin, "TypeCode": "1"},
            "Packaging": {
              "SequenceNumeric": "1",
              "MarksNumbersID": .packages.marks,
              "QuantityQuantity": .packages.count,
              "TypeCode": .packages.kind
            }
          }
        ],
        "TradeTerms": {"ConditionCode": $d.incoterm, "LocationName": $d.incoterm_place}
      }
    }
  }
}
