"""Interop check with an independent gRPC implementation (Debian's python3-grpcio).

Usage: client.py <generated-dir> <address> <token> <event_id> <ticket_type_id>
Runs reserve → confirm → check-in → repeat check-in and prints one JSON line of results.
"""
import json
import sys
import uuid

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import ticket_pb2  # noqa: E402
import ticket_pb2_grpc  # noqa: E402

address, token, event_id, ticket_type_id = sys.argv[2:6]
metadata = [("authorization", f"Bearer {token}")]
with grpc.insecure_channel(address) as channel:
    tickets = ticket_pb2_grpc.TicketServiceStub(channel)
    checkin = ticket_pb2_grpc.CheckinServiceStub(channel)
    reservation_id = str(uuid.uuid4())
    held = tickets.ReserveTickets(
        ticket_pb2.ReserveTicketsRequest(
            event_id=event_id,
            reservation_id=reservation_id,
            items=[ticket_pb2.LineItem(ticket_type_id=ticket_type_id, quantity=1)],
        ),
        metadata=metadata,
    )
    confirmed = tickets.ConfirmReservation(
        ticket_pb2.ConfirmReservationRequest(event_id=event_id, reservation_id=reservation_id, payment_reference="py"),
        metadata=metadata,
    )
    code = confirmed.tickets[0].code
    first = checkin.CheckInTicket(ticket_pb2.CheckInTicketRequest(code=code, gate="py-1"), metadata=metadata)
    second = checkin.CheckInTicket(ticket_pb2.CheckInTicketRequest(code=code, gate="py-2"), metadata=metadata)
    try:
        tickets.ReserveTickets(ticket_pb2.ReserveTicketsRequest(event_id=event_id, reservation_id="bad", items=[]), metadata=metadata)
        error = None
    except grpc.RpcError as err:
        trailers = dict(err.trailing_metadata() or [])
        error = {"code": err.code().name, "reason": trailers.get("x-error-code")}
    print(json.dumps({
        "held_status": ticket_pb2.ReservationStatus.Name(held.reservation.status),
        "total_minor": held.reservation.total.amount_minor,
        "confirmed_status": ticket_pb2.ReservationStatus.Name(confirmed.reservation.status),
        "ticket_count": len(confirmed.tickets),
        "first": ticket_pb2.CheckInTicketResponse.Result.Name(first.result),
        "second": ticket_pb2.CheckInTicketResponse.Result.Name(second.result),
        "first_gate": second.first_gate,
        "error": error,
    }))
