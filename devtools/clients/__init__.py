"""The clients a frontend team installs (`make clients`): an npm package and a Python wheel of the contract."""
