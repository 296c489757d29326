-- severity: warn
-- Every packet meets the evidence requirements. A failing packet is a finding for
-- its owner, not a data fault: reported at WARN with the failing packets, each with
-- its notes (what is missing and who must supply it).
SELECT workload_tag, request_class, owner_tag, failed_requirements, notes
FROM {{ this }}
WHERE cycle_id = :cycle_id AND result <> 'pass'
ORDER BY workload_tag, request_class
