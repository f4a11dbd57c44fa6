import LoaCore
