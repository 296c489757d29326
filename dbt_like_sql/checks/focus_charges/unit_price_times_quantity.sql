-- severity: error
-- Every FOCUS row prices its quantity (SPEC 5): PricingQuantity * ListUnitPrice =
-- ListCost at 1e-6; a unit price exactly where a cost is known; and BilledCost,
-- EffectiveCost and ContractedCost equal ListCost (all the estimate).
SELECT
    workload_tag, request_class, model, "x_ChargeKind", "SkuId",
    "PricingQuantity", "ListUnitPrice", "ListCost"
FROM {{ this }}
WHERE cycle_id = :cycle_id
  AND ((CASE WHEN "ListCost" IS NULL THEN 1 ELSE 0 END)
       <> (CASE WHEN "ListUnitPrice" IS NULL THEN 1 ELSE 0 END)
       OR ABS("PricingQuantity" * "ListUnitPrice" - "ListCost") > 0.000001
       OR "ContractedUnitPrice" <> "ListUnitPrice"
{% for column in focus.cost_columns if column != 'ListCost' %}
       OR (CASE WHEN "{{ column }}" IS NULL THEN 1 ELSE 0 END)
          <> (CASE WHEN "ListCost" IS NULL THEN 1 ELSE 0 END)
       OR "{{ column }}" <> "ListCost"
{% endfor %}
      )
