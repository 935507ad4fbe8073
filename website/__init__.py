"""The demo website of Nordwerk with the Lotse chat widget."""
