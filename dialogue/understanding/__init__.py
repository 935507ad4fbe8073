"""What a visitor's message means besides a qualification answer: requests, small talk,
questions, follow-ups and the decision on the message's intent. Pure Python."""
