// Shared by the test targets.

/// Every example in shared/spec/events.md, verbatim.
public let specExampleLines = [
    #"{"type":"turn","event_id":"s1-t0","session_id":"s1","user_id":"u7","turn_index":0,"role":"user","content":"这个数字是多少?","request_id":"s1-r1","ts":"2026-05-01T00:00:00Z","image":{"ref":"images/receipt-0001.png","sha256":"<optional hex>"}}"#,
    #"{"type":"turn","event_id":"s1-t1","session_id":"s1","user_id":"u7","turn_index":1,"role":"assistant","content":"87","request_id":"s1-r1","ts":"2026-05-01T00:00:07Z","response_ms":911,"model":"vlm-prod","prompt_version":"vqa-v3"}"#,
    #"{"type":"session_end","event_id":"s1-end","session_id":"s1","ts":"2026-05-01T00:00:59Z"}"#,
    #"{"type":"feedback","event_id":"f1","session_id":"s1","request_id":"s1-r1","user_id":"u7","kind":"thumbs_down","ts":"2026-05-01T00:00:09Z"}"#,
    #"{"type":"feedback","event_id":"f2","session_id":"s1","request_id":"s1-r1","user_id":"u7","kind":"correction","corrected_response":"78","ts":"2026-05-01T00:00:10Z"}"#,
    #"{"type":"recognition","event_id":"rec1","request_id":"rec1","user_id":"u9","ts":"2026-05-01T01:00:00Z","image":{"ref":"images/street-0042.jpg"},"model":"ram-swin-l","prompt_version":"tags-v1","tags":[{"tag":"car","score":0.93},{"tag":"dog","score":0.41}]}"#,
    #"{"type":"feedback","event_id":"f9","request_id":"rec1","user_id":"u9","kind":"tags","is_correct":false,"wrong_tags":["dog"],"missing_tags":["bicycle"],"ts":"2026-05-01T01:00:30Z"}"#,
    #"{"type":"error_log","event_id":"e1","request_id":"s9-r2","kind":"format_error","detail":"expected JSON, got prose","ts":"2026-05-01T02:00:00Z"}"#,
]
