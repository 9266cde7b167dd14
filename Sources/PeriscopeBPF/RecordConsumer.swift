/// Takes the event ring buffer's records during `Tracer.poll(timeoutMilliseconds:into:)`, one
/// call per record, in order: the reader's own object (the capture loop), reached from
/// libbpf's callback without a closure in between, so that no reference count changes per
/// record.
public protocol RecordConsumer: AnyObject {
    /// One record laid out as `struct periscope_event`, valid only during the call.
    func consume(record: UnsafeRawBufferPointer)
}
