"""The steps of the ingest pipeline, in the order ``pipeline.STEPS`` runs them.

Each step is a small function over one batch's ``Work`` (``work.py``): it reads what
the steps before it left and adds its own part. A problem found for a message stays
on that message (``Candidate.problems``), so dead letters and answers keep the order
of the payload whatever step found them.

1. ``decode.decode`` — the decoder turns each envelope into messages and refusals;
2. ``devices.authorize`` — one lookup of the batch's devices; a node credential that
   names another node's device has its envelope refused;
3. ``devices.resolve`` — each message's node (``device``, then ``also``), and the
   gateways' receptions of it;
4. ``values.codec`` — a network server's fields are kept or the frame is decoded;
5. ``values.validate`` — rows and problems; a message with neither is ``no-values``;
6. ``store.store`` — one transaction: samples, receptions, dead letters, last_seen,
   and last ``Committed`` announced to the consumers in settings
   ``AFTER_COMMIT_CONSUMERS`` (in it or once it commits, ``sensorgrid.events``);
7. ``announce.after_commit`` — the metrics, once the transaction commits.
"""
